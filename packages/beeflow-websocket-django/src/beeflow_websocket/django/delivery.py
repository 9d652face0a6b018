"""Delivery through the Channels channel layer: connections and groups across every process.

A connection's id is its consumer's channel name, and groups are channel-layer groups, so with
channels-redis an event reaches connections held by any process of the deployment. Group names are
mapped onto names the channel layer accepts (it allows neither ``:`` nor ``~``).
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any, Final
from weakref import WeakKeyDictionary

from channels.exceptions import ChannelFull

from beeflow_websocket.core.guardrails.rate_limits import TokenStore
from beeflow_websocket.core.history.memory import MemoryHistory
from beeflow_websocket.core.history.positions import HistoryPolicy
from beeflow_websocket.core.problems import DeliveryUnavailable
from beeflow_websocket.core.transport import OutboundEvent

if TYPE_CHECKING:
    from beeflow_websocket.core.history.redis_history import RedisHistory
    from beeflow_websocket.core.retries.redis_ledger import RedisLedger

__all__ = [
    "CLOSE_MESSAGE_TYPE",
    "EVENT_MESSAGE_TYPE",
    "ChannelLayerDelivery",
    "channel_layer_group",
    "layer_history",
    "layer_ledger",
    "layer_tokens",
]

logger: Final = logging.getLogger(__name__)

EVENT_MESSAGE_TYPE: Final = "beeflow.event"
"""Channel-layer message type that carries an event to a consumer (its ``beeflow_event`` handler)."""

CLOSE_MESSAGE_TYPE: Final = "beeflow.close"
"""Channel-layer message type that closes a consumer's connection (its ``beeflow_close`` handler)."""

_PLAIN_NAME: Final = re.compile(r"[A-Za-z0-9._-]{1,80}")


def channel_layer_group(group: str) -> str:
    """The channel-layer group name for a Beeflow group: readable when possible, hashed otherwise."""
    if _PLAIN_NAME.fullmatch(group):
        return f"beeflow.g.{group}"
    return f"beeflow.h.{hashlib.sha256(group.encode()).hexdigest()[:48]}"


class ChannelLayerDelivery:
    """A :class:`~beeflow_websocket.core.transport.Delivery` engine over a Channels channel layer.

    Args:
        layer: The channel layer, or ``None`` when none is configured: then nothing beyond the
            connection itself can be reached, and events for others are dropped with a debug record.
        history: Which streams keep a history (``BEEFLOW_WEBSOCKET_HISTORY_*``); ``None``: none.
    """

    def __init__(self, layer: Any, history: HistoryPolicy | None = None) -> None:
        self.layer = layer
        self.tokens = layer_tokens(layer)
        """The users' rate-limit buckets: in the layer's Redis with channels-redis, else ``None`` (this
        process's; see ``beeflow_websocket.core.guardrails.limiter``)."""
        self.history = layer_history(layer, history)
        """The streams' histories: in the layer's Redis with channels-redis, else this process's."""
        self.ledger = layer_ledger(layer)
        """The requests started, for ``retry_window``: in the layer's Redis with channels-redis, else
        ``None`` (this process's; see ``beeflow_websocket.core.retries``)."""

    async def send_to_connections(self, websocket_ids: Collection[str], event: OutboundEvent) -> None:
        """Send ``event`` to each consumer channel."""
        message = _message(event)
        for channel_name in websocket_ids:
            await self._call("send", channel_name, message, target=f"connection {channel_name}")

    async def send_to_group(self, group: str, event: OutboundEvent) -> OutboundEvent:
        """Send ``event`` to every consumer in ``group``; return it as sent.

        An event of a stream that keeps a history is appended to it first, then sent with its
        position. The two are not one step, as on the Redis engine: two senders may hand a stream's
        events to the layer out of offset order, and each connection puts them back in order.
        """
        history = self.history
        if history is not None and history.policy.keeps(group):
            event = await history.append(group, event)
        await self._call("group_send", channel_layer_group(group), _message(event), target=f"group {group}")
        return event

    async def close_connections(self, websocket_ids: Collection[str], code: int, reason: str) -> None:
        """Close each consumer's connection."""
        message = {"type": CLOSE_MESSAGE_TYPE, "code": code, "reason": reason}
        for channel_name in websocket_ids:
            await self._call("send", channel_name, message, target=f"connection {channel_name}")

    async def close_group(self, group: str, code: int, reason: str) -> None:
        """Close the connection of every consumer in ``group``."""
        message = {"type": CLOSE_MESSAGE_TYPE, "code": code, "reason": reason}
        await self._call("group_send", channel_layer_group(group), message, target=f"group {group}")

    async def add_to_group(self, group: str, websocket_id: str) -> None:
        """Add a consumer channel to ``group``."""
        await self._call("group_add", channel_layer_group(group), websocket_id, target=f"group {group}")

    async def remove_from_group(self, group: str, websocket_id: str) -> None:
        """Remove a consumer channel from ``group``."""
        await self._call("group_discard", channel_layer_group(group), websocket_id, target=f"group {group}")

    async def _call(self, method: str, name: str, argument: object, *, target: str) -> None:
        if self.layer is None:
            logger.debug("no channel layer: %s for %s skipped", method, target)
            return
        try:
            await getattr(self.layer, method)(name, argument)
        except ChannelFull:
            logger.warning("dropped a message (%s) for %s: its channel is full", method, target)
        except Exception as error:
            logger.error("the channel layer failed (%s for %s): %s", method, target, error)
            raise DeliveryUnavailable() from error


def _uses_redis(layer: Any) -> bool:
    """Whether ``layer`` is channels-redis's ``RedisChannelLayer``, whose Redis stores can share."""
    return layer is not None and type(layer).__module__ == "channels_redis.core"


def _in_layer_redis[S](layer: Any, kept: WeakKeyDictionary[Any, S], build: Callable[..., S]) -> S:
    """The store ``build`` makes in the first Redis host of a channels-redis layer, one per layer.

    Its keys go under the layer's prefix.
    """
    store = kept.get(layer)
    if store is None:
        prefix = f"{getattr(layer, 'prefix', 'asgi')}:beeflow"
        store = kept[layer] = build(lambda: layer.connection(0), prefix=prefix)
    return store


_LAYER_TOKENS: Final[WeakKeyDictionary[Any, TokenStore]] = WeakKeyDictionary()


def layer_tokens(layer: Any) -> TokenStore | None:
    """The users' rate-limit buckets of the connections a channel layer serves, one store per layer.

    With channels-redis's ``RedisChannelLayer`` they live in the layer's first Redis host, under the
    layer's prefix, so a Django site needs nothing beyond its Redis for limits shared by every
    process. Any other layer (the in-memory one, channels-redis's pub/sub layer) has none: limits then
    hold per process.
    """
    if not _uses_redis(layer):
        return None
    from beeflow_websocket.core.guardrails.redis_tokens import RedisTokens  # redis-py: channels-redis has it

    return _in_layer_redis(layer, _LAYER_TOKENS, RedisTokens)


_LAYER_LEDGERS: Final[WeakKeyDictionary[Any, RedisLedger]] = WeakKeyDictionary()


def layer_ledger(layer: Any) -> RedisLedger | None:
    """The record of started requests of the connections a channel layer serves, one per layer.

    With channels-redis's ``RedisChannelLayer`` it lives in the layer's first Redis host, under the
    layer's prefix, so a retry reaching another process is still recognised; any other layer has
    none, and this process's record serves.
    """
    if not _uses_redis(layer):
        return None
    from beeflow_websocket.core.retries.redis_ledger import RedisLedger  # redis-py: channels-redis has it

    return _in_layer_redis(layer, _LAYER_LEDGERS, RedisLedger)


_LAYER_HISTORIES: Final[WeakKeyDictionary[Any, dict[HistoryPolicy, MemoryHistory | RedisHistory]]] = (
    WeakKeyDictionary()
)


_PROCESS_HISTORIES: Final[dict[HistoryPolicy, MemoryHistory | RedisHistory]] = {}


def layer_history(layer: Any, policy: HistoryPolicy | None) -> MemoryHistory | RedisHistory | None:
    """The streams' histories of the connections a channel layer serves, one per layer and policy.

    With channels-redis's ``RedisChannelLayer`` they live in the layer's first Redis host, under the
    layer's prefix, so a Django site needs nothing beyond its Redis for resumes on every process.
    Any other layer (the in-memory one, for one process) keeps them in this process's memory.
    """
    if policy is None or not policy.size:
        return None
    kept = _PROCESS_HISTORIES if layer is None else _LAYER_HISTORIES.setdefault(layer, {})
    history = kept.get(policy)
    if history is None:
        if _uses_redis(layer):
            from beeflow_websocket.core.history.redis_history import (
                RedisHistory,  # redis-py: channels-redis has it
            )

            prefix = f"{getattr(layer, 'prefix', 'asgi')}:beeflow"
            history = RedisHistory(lambda: layer.connection(0), prefix=prefix, policy=policy)
        else:
            history = MemoryHistory(policy)
        kept[policy] = history
    return history


def _message(event: OutboundEvent) -> dict[str, object]:
    message: dict[str, object] = {"type": EVENT_MESSAGE_TYPE, "req_id": event.req_id, "body": event.body}
    if event.skip is not None:
        message["skip"] = event.skip  # only then: a consumer of an earlier release delivers it anyway
    if event.position is not None:
        message["stream"] = list(event.position)
    return message
