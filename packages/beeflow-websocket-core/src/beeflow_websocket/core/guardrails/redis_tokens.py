"""The users' rate-limit buckets in Redis, shared by every process: one round trip per check.

The arithmetic of :mod:`~beeflow_websocket.core.guardrails.rate_limits` runs in one Lua script, so
that reading and taking several buckets is one atomic step: two processes checking the same user at
once cannot both take its last token. The clock is Redis's (``TIME``), one clock for every process.
Each bucket is one string key holding, in microseconds, when it will be full again, and it expires
then: a full bucket needs no state. About 90 bytes of Redis memory per user and limit in use.

A user's keys share the hash tag ``{<user>}``, so a check touches one slot of a Redis Cluster.

When Redis cannot be reached, the check falls back on this process's buckets: the limit then holds
per process rather than for the deployment (a warning says so, at most once a minute), and requests
are neither refused wholesale nor let through unlimited. Redis is tried again a second later, not on
every request: a request that finds it gone waits for the client's timeout, the ones after it do not.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Final

from redis.exceptions import RedisError

from beeflow_websocket.core.guardrails.rate_limits import LocalTokens, RateLimit, Wait

if TYPE_CHECKING:
    import redis.asyncio as redis
    from redis.commands.core import AsyncScript

__all__ = ["RedisTokens"]

logger: Final = logging.getLogger("beeflow_websocket.core.guardrails")

_TAKE: Final = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000000 + tonumber(now_parts[2])
local longest, refusing = 0, 0
local full = {}
for i, key in ipairs(KEYS) do
  local interval, period = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
  local at = tonumber(redis.call('GET', key) or now)
  if at < now then at = now end
  full[i] = at
  local wait = at - now - (period - interval)
  if wait > longest then longest, refusing = wait, i end
end
if refusing > 0 then return {refusing, string.format('%.0f', longest)} end
for i, key in ipairs(KEYS) do
  local at = full[i] + tonumber(ARGV[2 * i - 1])
  local expires = string.format('%.0f', math.ceil((at - now) / 1000) + 1)
  redis.call('SET', key, string.format('%.0f', at), 'PX', expires)
end
return {0, '0'}
"""
"""Takes a token from every bucket in KEYS or from none; ARGV: each one's interval and period in µs.

Returns ``{0, "0"}`` when taken, else ``{i, wait}``: the 1-based index of the bucket that waits
longest, and its wait in µs. Times are written with ``%.0f``: ``tostring`` keeps 14 digits, and a
time in µs since 1970 has 16.
"""

_WARN_EVERY: Final = 60.0
_RETRY_AFTER: Final = 1.0


class RedisTokens:
    """A :class:`~beeflow_websocket.core.guardrails.rate_limits.TokenStore` in Redis.

    Args:
        client: Gives the Redis client to use now (one per event loop, as the engines keep them).
        prefix: Prefix of every key; applications sharing one Redis each need their own.
        fallback: This process's buckets, used while Redis cannot be reached.
    """

    def __init__(
        self, client: Callable[[], redis.Redis], *, prefix: str, fallback: LocalTokens | None = None
    ) -> None:
        self._client = client
        self.prefix = prefix
        self._fallback = fallback if fallback is not None else LocalTokens()
        self._script: AsyncScript | None = None
        self._warned = -_WARN_EVERY
        self._retry_at = 0.0

    def key(self, owner: str, name: str) -> str:
        """The Redis key of ``owner``'s bucket ``name`` (``""``: the one for every action)."""
        return f"{self.prefix}:rate:{{{owner}}}:{name}"

    async def take(self, owner: str, checks: Sequence[tuple[str, RateLimit]]) -> Wait | None:
        """See :meth:`~beeflow_websocket.core.guardrails.rate_limits.TokenStore.take`."""
        if self._retry_at and time.monotonic() < self._retry_at:
            return self._fallback.take_now(owner, checks)
        keys = [self.key(owner, name) for name, _ in checks]
        arguments: list[str] = []
        for _, limit in checks:
            arguments += (f"{limit.interval * 1e6:.3f}", f"{limit.period * 1e6:.3f}")
        try:
            client = self._client()
            script = self._script
            if script is None or script.registered_client is not client:
                script = self._script = client.register_script(_TAKE)
            refusing, wait = await script(keys=keys, args=arguments)
        except (RedisError, OSError) as error:
            self._retry_at = time.monotonic() + _RETRY_AFTER
            self._warn(error)
            return self._fallback.take_now(owner, checks)
        self._retry_at = 0.0
        if int(refusing) == 0:
            return None
        return Wait(float(wait) / 1e6, checks[int(refusing) - 1][1])

    def _warn(self, error: Exception) -> None:
        now = time.monotonic()
        if now - self._warned >= _WARN_EVERY:
            self._warned = now
            logger.warning(
                "rate limits: Redis cannot be reached (%s); users' limits hold per process until it is back",
                error,
            )
