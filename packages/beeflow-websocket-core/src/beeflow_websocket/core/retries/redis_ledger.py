"""The record of started requests in Redis, shared by every process: a round trip as each starts and ends.

A request is one string key holding its outcome, expiring ``window`` after its last change: about
200 bytes of Redis memory per request recorded within the window (measured: 10,000 requests took
2.0 MB). Beginning is one Lua script, so that checking and recording are one step and two processes
given the same ``msg_id`` at once do not both run it. Settling is ``SET ... XX``: an entry that
expired meanwhile is not brought back.

A user's keys share the hash tag ``{<user>}``, so a request touches one slot of a Redis Cluster.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from redis.exceptions import RedisError

from beeflow_websocket.core.problems import DeliveryUnavailable

if TYPE_CHECKING:
    import redis.asyncio as redis
    from redis.commands.core import AsyncScript

    from beeflow_websocket.core.retries.ledger import Outcome

__all__ = ["RedisLedger"]

_BEGIN: Final = """
local outcome = redis.call('GET', KEYS[1])
if outcome then return outcome end
redis.call('SET', KEYS[1], 'running', 'PX', ARGV[1])
return false
"""
"""Records KEYS[1] as running for ARGV[1] ms unless it is recorded; returns the recorded outcome, or nil."""


class RedisLedger:
    """A :class:`~beeflow_websocket.core.retries.ledger.RequestLedger` in Redis.

    Args:
        client: Gives the Redis client to use now (one per event loop, as the engines keep them).
        prefix: Prefix of every key; applications sharing one Redis each need their own.
    """

    def __init__(self, client: Callable[[], redis.Redis], *, prefix: str) -> None:
        self._client = client
        self.prefix = prefix
        self._script: AsyncScript | None = None

    def key(self, owner: str, msg_id: str) -> str:
        """The Redis key of ``owner``'s request ``msg_id``."""
        return f"{self.prefix}:request:{{{owner}}}:{msg_id}"

    async def begin(self, owner: str, msg_id: str, window: float) -> Outcome | None:
        """See :meth:`~beeflow_websocket.core.retries.ledger.RequestLedger.begin`."""
        client = self._client()
        script = self._script
        if script is None or script.registered_client is not client:
            script = self._script = client.register_script(_BEGIN)
        try:
            recorded = await script(keys=(self.key(owner, msg_id),), args=(_milliseconds(window),))
        except (RedisError, OSError) as error:
            raise DeliveryUnavailable("The request could not be recorded, so it was not run.") from error
        if recorded is None:
            return None
        outcome: Outcome = recorded.decode()
        return outcome

    async def settle(self, owner: str, msg_ids: list[str], outcome: Outcome, window: float) -> None:
        """See :meth:`~beeflow_websocket.core.retries.ledger.RequestLedger.settle`."""
        expires = _milliseconds(window)
        try:
            async with self._client().pipeline(transaction=False) as pipe:
                for msg_id in msg_ids:
                    pipe.set(self.key(owner, msg_id), outcome, px=expires, xx=True)
                await pipe.execute()
        except (RedisError, OSError) as error:
            raise DeliveryUnavailable("How the request ended could not be recorded.") from error


def _milliseconds(window: float) -> int:
    return max(1, int(window * 1000))
