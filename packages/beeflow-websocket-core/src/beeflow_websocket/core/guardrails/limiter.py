"""The rate limits of one connection's requests, checked before a request runs.

Each limit is a token bucket (:mod:`~beeflow_websocket.core.guardrails.rate_limits`), kept where it
is counted:

- the connection's own limits (the ``rate_limit`` setting, an action's ``rate_limit=``) in the
  connection's memory, with no I/O;
- its user's limits (``user_rate_limit``, an action's ``user_rate_limit=``) in the delivery engine's
  shared store (:class:`~beeflow_websocket.core.guardrails.rate_limits.TokenStore`): one Redis round
  trip per request when the engine is Redis, this process's memory otherwise;
- the connection's refusal budget (``rate_limit_budget``): a client that goes on asking past its
  refusals is closed with :data:`RATE_LIMITED_CLOSE_CODE`.

The connection's own buckets are looked at first, so a client flooding past its own limit is refused
without a trip to the shared store: what it costs the deployment stays in its process. Tokens are
taken from every bucket that applies, or from none, so a refused request does not count.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Final, Literal

from beeflow_websocket.core.action_registry import ActionRegistryMeta
from beeflow_websocket.core.guardrails.rate_limits import (
    Buckets,
    LocalTokens,
    RateLimit,
    TokenStore,
    rate_limit,
    retry_after,
)
from beeflow_websocket.core.problems import RateLimited

if TYPE_CHECKING:
    from beeflow_websocket.core.guardrails.rate_limits import Wait
    from beeflow_websocket.core.settings import DispatcherSettings

__all__ = ["RATE_LIMITED_CLOSE_CODE", "RATE_LIMITED_REASON", "RequestLimiter", "tokens_of"]

RATE_LIMITED_CLOSE_CODE: Final = 4429
"""Close code of a connection that spent its refusal budget (4000 + HTTP 429); clients reconnect later."""

RATE_LIMITED_REASON: Final = "too many requests refused for rate limits"
"""Its close reason."""

_PROCESS_TOKENS: Final = LocalTokens()
"""The users' buckets for an engine without a store of its own: exact for one process."""

_ALL: Final = ""
"""The name of the bucket that counts every action (an action's own bucket is named after it)."""


def tokens_of(delivery: object) -> TokenStore:
    """The store of users' buckets that ``delivery`` shares between processes, or this process's."""
    store: TokenStore | None = getattr(delivery, "tokens", None)
    return store if store is not None else _PROCESS_TOKENS


def _limits_of(action_class: type) -> tuple[RateLimit | None, RateLimit | None]:
    return getattr(action_class, "action_rate_limit", None), getattr(
        action_class, "action_user_rate_limit", None
    )


class RequestLimiter:
    """Decides whether a connection may make a request now, and when it has asked past its refusals.

    Args:
        settings: The limits for all actions, and the refusal budget.
        user_id: The connection's user: the owner of the shared buckets.
        tokens: Where the users' buckets are kept (see :func:`tokens_of`).

    Attributes:
        exhausted: The refusal budget is spent: the connection must be closed with
            :data:`RATE_LIMITED_CLOSE_CODE`.
    """

    __slots__ = ("_buckets", "_budget", "_connection_limit", "_tokens", "_user", "_user_limit", "exhausted")

    def __init__(self, settings: DispatcherSettings, *, user_id: object, tokens: TokenStore) -> None:
        # RateLimit objects already: rate_limit() passes them through, and says so to the type checker.
        self._connection_limit = rate_limit(settings.rate_limit, "rate_limit")
        self._user_limit = rate_limit(settings.user_rate_limit, "user_rate_limit")
        self._budget = rate_limit(settings.rate_limit_budget, "rate_limit_budget")
        self._tokens = tokens
        self._user = str(user_id)
        self._buckets = Buckets()
        self.exhausted = False

    @classmethod
    def needed(cls, settings: DispatcherSettings) -> bool:
        """Whether any limit applies to the connections of ``settings``: else none gets a limiter.

        Looks at every registered action, once per connection: 24 µs for a hundred actions
        (measured), beside a handshake of milliseconds, so that the request path of an application
        without limits stays as it was.
        """
        if settings.rate_limit is not None or settings.user_rate_limit is not None:
            return True
        registry = ActionRegistryMeta.registry
        return any(limit is not None for name in registry for limit in _limits_of(registry[name]))

    async def check(self, action_class: type, action: str) -> RateLimited | None:
        """Take a token for one request of ``action``; the problem to answer when it may not run now."""
        own_limit, user_limit = _limits_of(action_class)
        own = _checks(self._connection_limit, own_limit, action)
        if own:
            refused = self._buckets.wait(own, time.monotonic())
            if refused is not None:
                return self._refuse(refused, "connection")
        shared = _checks(self._user_limit, user_limit, action)
        if shared:
            refused = await self._tokens.take(self._user, shared)
            if refused is not None:
                return self._refuse(refused, "user")
        if own:
            self._buckets.take(own, time.monotonic())
        return None

    def _refuse(self, refused: Wait, scope: Literal["connection", "user"]) -> RateLimited:
        if self._budget is not None and self._buckets.take(((_BUDGET, self._budget),), time.monotonic()):
            self.exhausted = True
        return RateLimited(
            extensions={
                "retry_after": retry_after(refused.seconds),
                "limit": str(refused.limit),
                "scope": scope,
            }
        )


_BUDGET: Final = "\x00refused"
"""The budget's bucket, among the connection's own: no action is named with a NUL."""


def _checks(every: RateLimit | None, this: RateLimit | None, action: str) -> list[tuple[str, RateLimit]]:
    checks = []
    if every is not None:
        checks.append((_ALL, every))
    if this is not None:
        checks.append((action, this))
    return checks
