"""The Redis engine on Django: the delivery FastAPI and Flask use, for a site that names a Redis.

With ``BEEFLOW_WEBSOCKET_REDIS_URL`` set, connections reach each other through the core's Redis
engine instead of the Channels layer: events cross processes on Redis pub/sub, each process keeps
its connections and groups itself, and nothing is dropped at a channel's capacity (channels-redis
drops what exceeds it, 100 messages by default, without a word). A Redis outage then answers each
event 503 while delivery inside the process goes on, as on the other adapters.
"""

from __future__ import annotations

from typing import Final

from django.core.exceptions import ImproperlyConfigured

from beeflow_websocket.core.configuration import AdapterState
from beeflow_websocket.django.configuration import dispatcher_settings, options, setting_name

__all__ = ["redis_state"]

_STATES: Final[dict[tuple[str, str], AdapterState]] = {}


def redis_state() -> AdapterState | None:
    """This process's connections and Redis engine; ``None`` when no Redis URL is set.

    Raises:
        ImproperlyConfigured: The URL or the prefix is not a non-blank string.
    """
    values = options()
    if values["redis_url"] is None:
        return None
    url, prefix = _text(values, "redis_url"), _text(values, "redis_channel_prefix")
    state = _STATES.get((url, prefix))
    if state is None:
        state = AdapterState(settings=dispatcher_settings())
        state.use_redis(url, channel_prefix=prefix)  # redis-py: channels-redis brings it too
        _STATES[(url, prefix)] = state
    return state


def _text(values: dict[str, object], name: str) -> str:
    value = values[name]
    if not isinstance(value, str) or not value.strip():
        raise ImproperlyConfigured(f"{setting_name(name)} must be a non-blank string, got {value!r}")
    return value
