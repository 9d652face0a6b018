"""Protocol settings an adapter hands to every connection's dispatcher."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from beeflow_websocket.core.guardrails.rate_limits import RateLimit, rate_limit
from beeflow_websocket.core.history.positions import (
    DEFAULT_HISTORY_STREAMS,
    DEFAULT_HISTORY_TTL,
    HistoryPolicy,
    StreamKind,
)

__all__ = [
    "DEFAULT_MAX_CONCURRENT_ACTIONS",
    "DEFAULT_MAX_MESSAGE_SIZE",
    "DEFAULT_MAX_OUTBOUND_MESSAGES",
    "DEFAULT_MAX_PENDING_MESSAGES",
    "DEFAULT_RATE_LIMIT_BUDGET",
    "DEFAULT_SETTINGS",
    "DEFAULT_SLOW_CONSUMER_TIMEOUT",
    "DEFAULT_TOKEN_EXPIRY_GRACE",
    "DEFAULT_TOKEN_EXPIRY_NOTICE",
    "DispatcherSettings",
]

DEFAULT_MAX_MESSAGE_SIZE: Final = 1024 * 1024
"""1 MiB: larger inbound frames are answered with ``message_too_large`` without being parsed."""

DEFAULT_MAX_CONCURRENT_ACTIONS: Final = 1
"""One action at a time per connection: frames are handled in the order they arrive, as in 0.3.0."""

DEFAULT_MAX_PENDING_MESSAGES: Final = 32
"""Frames a connection may have waiting for an action slot before the adapter stops reading."""

DEFAULT_MAX_OUTBOUND_MESSAGES: Final = 256
"""Frames a connection may have waiting to be written before it counts as not reading."""

DEFAULT_SLOW_CONSUMER_TIMEOUT: Final = 2.0
"""Seconds a full outbound queue may stay full before its client counts as not reading."""

DEFAULT_RATE_LIMIT_BUDGET: Final = RateLimit(60, 60.0)
"""Requests a connection may have refused for its rate limits (a burst of 60, one more a second)
before it is closed with 4429: a client that heeds ``retry_after`` is refused a few times at most."""

DEFAULT_TOKEN_EXPIRY_NOTICE: Final = 30.0
"""Seconds before credentials expire at which a v1 client is told: time for a token round trip."""

DEFAULT_TOKEN_EXPIRY_GRACE: Final = 10.0
"""Seconds after they expire before an unrefreshed connection is closed: clock skew and a slow refresh."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DispatcherSettings:
    """What the protocol needs to know that the frames do not say.

    Attributes:
        problem_type_base_url: Base of the Problem Details ``type`` URI; each problem's slug is
            appended to it. ``None`` (the default) gives ``about:blank``.
        max_message_size: Largest inbound frame, in bytes (UTF-8 for text frames).
        max_concurrent_actions: How many actions of one connection may run at once. With 1, frames
            are handled strictly one after another; with more, a slow action no longer holds up the
            next frame, and events of different requests may interleave.
        max_pending_messages: How many received frames may wait for a free action slot. When they
            are all taken, the adapter stops reading from the client until one frees up, so a client
            that floods is slowed down instead of growing the server's memory.
        max_outbound_messages: How many frames may wait to be written to the connection. The
            connection's own actions wait for room; an event from elsewhere waits at most
            ``slow_consumer_timeout`` seconds, after which the connection is closed with 1013, since
            its client has stopped reading.
        slow_consumer_timeout: See ``max_outbound_messages``.
        idle_timeout: Seconds a connection may send nothing before it is closed with 4408; ``None``
            (the default) keeps it open. Any frame counts, so a client keeps a connection it means
            to keep by sending something (such as ``beeflow.ping``) more often than this.
        action_timeout: Seconds an action may run when its class sets no ``timeout=``; past them it
            is stopped as on a cancel and answered 504 ``action_timeout``. ``None`` (the default):
            no limit.
        rate_limit: How many requests one connection may make, such as ``"10/s"`` or ``"100/min"``
            (a :class:`~beeflow_websocket.core.guardrails.rate_limits.RateLimit` or its text form); a
            burst of that many is allowed. Beyond it a request is answered 429 ``rate_limited`` with
            ``retry_after``, and not run. ``None`` (the default): no limit. Control frames
            (``beeflow.cancel``, ``beeflow.ping``) are never limited.
        user_rate_limit: The same for all the connections of one user together, on every process
            that shares the delivery engine's store (Redis, when configured). ``None``: no limit.
        rate_limit_budget: How many refused requests a connection may make (``"60/min"``: a burst
            of 60, then one a second) before it is closed with 4429; ``None``: never closed for it.
            Whatever is given as text is a ``RateLimit`` once the settings exist.
        token_expiry_notice: Seconds before a connection's credentials expire (when the
            authentication says so) at which a v1 client is told, to refresh them in band.
        token_expiry_grace: Seconds after they expire at which a connection not refreshed is closed
            with 4440.
        history_size: Events kept per stream (a user's connections, a group) for clients that
            reconnect to resume from (``beeflow.resume``); 0 (the default) keeps none.
        history_ttl: Seconds an event is kept after its stream's last event (default 300).
        history_streams: Which streams keep a history: ``"user"``, ``"group"``, or both (the default).
        retry_window: Seconds for which a v1 request's ``msg_id`` is remembered, per user, from its
            action's start or end, so that a client sending it again after a lost connection gets
            409 ``duplicate_request`` instead of a second run (see ``beeflow_websocket.core.retries``).
            ``None`` (the default): requests are not remembered.
    """

    problem_type_base_url: str | None = None
    max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE
    max_concurrent_actions: int = DEFAULT_MAX_CONCURRENT_ACTIONS
    max_pending_messages: int = DEFAULT_MAX_PENDING_MESSAGES
    max_outbound_messages: int = DEFAULT_MAX_OUTBOUND_MESSAGES
    slow_consumer_timeout: float = DEFAULT_SLOW_CONSUMER_TIMEOUT
    idle_timeout: float | None = None
    action_timeout: float | None = None
    rate_limit: RateLimit | str | None = None
    user_rate_limit: RateLimit | str | None = None
    rate_limit_budget: RateLimit | str | None = DEFAULT_RATE_LIMIT_BUDGET
    token_expiry_notice: float = DEFAULT_TOKEN_EXPIRY_NOTICE
    token_expiry_grace: float = DEFAULT_TOKEN_EXPIRY_GRACE
    history_size: int = 0
    history_ttl: float = DEFAULT_HISTORY_TTL
    history_streams: tuple[StreamKind, ...] = DEFAULT_HISTORY_STREAMS
    retry_window: float | None = None

    @property
    def history(self) -> HistoryPolicy | None:
        """Which streams keep a history, and how much; ``None`` when none does."""
        if not self.history_size:
            return None
        return HistoryPolicy(self.history_size, self.history_ttl, frozenset(self.history_streams))

    def __post_init__(self) -> None:
        base = self.problem_type_base_url
        if base is not None and (not isinstance(base, str) or not base.strip()):
            raise ValueError(f"problem_type_base_url must be a non-blank string or None, got {base!r}")
        for name in (
            "max_message_size",
            "max_concurrent_actions",
            "max_pending_messages",
            "max_outbound_messages",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        size = self.history_size
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise ValueError(f"history_size must be an integer, 0 or more, got {size!r}")
        ttl = self.history_ttl
        if isinstance(ttl, bool) or not isinstance(ttl, int | float) or ttl <= 0:
            raise ValueError(f"history_ttl must be a positive number of seconds, got {ttl!r}")
        kinds: object = self.history_streams
        if not isinstance(kinds, list | tuple) or not all(kind in DEFAULT_HISTORY_STREAMS for kind in kinds):
            raise ValueError(f'history_streams must list "user", "group" or both, got {kinds!r}')
        object.__setattr__(self, "history_streams", tuple(kinds))
        for name in ("token_expiry_notice", "token_expiry_grace"):
            seconds = getattr(self, name)
            if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
                raise ValueError(f"{name} must be a number of seconds, 0 or more, got {seconds!r}")
        if not isinstance(self.slow_consumer_timeout, int | float) or self.slow_consumer_timeout <= 0:
            raise ValueError(
                f"slow_consumer_timeout must be a positive number, got {self.slow_consumer_timeout!r}"
            )
        for name in ("idle_timeout", "action_timeout", "retry_window"):
            limit = getattr(self, name)
            if limit is not None and (
                isinstance(limit, bool) or not isinstance(limit, int | float) or limit <= 0
            ):
                raise ValueError(f"{name} must be a positive number or None, got {limit!r}")
        for name in ("rate_limit", "user_rate_limit", "rate_limit_budget"):
            object.__setattr__(self, name, rate_limit(getattr(self, name), name))


DEFAULT_SETTINGS: Final = DispatcherSettings()
