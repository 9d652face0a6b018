"""The history of every process's streams in Redis: appended and published in one step.

Per stream, two keys in one hash slot (the stream's name is their hash tag, so a Redis Cluster
keeps them together): a hash with the epoch and the top offset, and a Redis Stream capped at the
history's size whose entry ids are the offsets. One Lua script numbers an event, appends it and,
for the Redis engine, publishes it with its position, so that every process hears a stream's
events in offset order and none is kept without being sent, nor sent without being kept. The
entries expire ``ttl`` seconds after the stream's last event; the hash a day after, so that a
client that missed nothing resumes however long ago the events expired.

When the hash is missing (never written, expired, or lost with Redis), the next append starts a new
epoch from Redis's clock and offset 1, and positions of the old epoch are unrecoverable.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from redis.exceptions import RedisError

from beeflow_websocket.core.history.positions import META_TTL, HistoryPolicy, StreamPosition
from beeflow_websocket.core.history.replay import KICK_MARK, Replay, replay_of
from beeflow_websocket.core.problems import DeliveryUnavailable
from beeflow_websocket.core.transport import OutboundEvent

if TYPE_CHECKING:
    import redis.asyncio as redis
    from redis.commands.core import AsyncScript

__all__ = ["RedisHistory"]

_APPEND: Final = """
local epoch = redis.call('HGET', KEYS[1], 'e')
if not epoch then
  local now = redis.call('TIME')
  epoch = string.format('%x%05x', tonumber(now[1]), tonumber(now[2]))
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'e', epoch)
end
local offset = redis.call('HINCRBY', KEYS[1], 'o', 1)
redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[1], offset .. '-1', 'r', ARGV[4], 'b', ARGV[5], 's', ARGV[8])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
if ARGV[6] ~= '' then
  redis.call('PUBLISH', ARGV[6], ARGV[7] .. ',"epoch":"' .. epoch .. '","offset":' .. offset .. '}')
end
return {epoch, offset}
"""
"""Numbers, keeps and (when ARGV[6] names a channel) publishes one event.

KEYS: the stream's hash and log. ARGV: size, entries' TTL in ms, the hash's TTL in ms, req_id
(``""``: none), body, channel, the message's JSON text without its closing brace, to which the
epoch and offset are added, and the connection the event skips (``""``: none).
"""

_READ: Final = """
local meta = redis.call('HMGET', KEYS[1], 'e', 'o')
if not meta[1] then return {'', '0', {}} end
return {meta[1], meta[2], redis.call('XRANGE', KEYS[2], ARGV[1] .. '-1', '+')}
"""
"""The stream's epoch, top offset, and entries from offset ARGV[1] on."""


class RedisHistory:
    """Stream histories in Redis.

    Args:
        client: Gives the Redis client to use now (one per event loop, as the engines keep them).
        prefix: Prefix of every key; applications sharing one Redis each need their own.
        policy: Which streams keep a history, how many events and for how long.
    """

    def __init__(self, client: Callable[[], redis.Redis], *, prefix: str, policy: HistoryPolicy) -> None:
        self._client = client
        self.prefix = prefix
        self.policy = policy
        self._append: AsyncScript | None = None
        self._read: AsyncScript | None = None

    def keys(self, stream: str) -> tuple[str, str]:
        """The Redis keys of ``stream``: its hash (epoch, top offset) and its log."""
        return f"{self.prefix}:history:{{{stream}}}", f"{self.prefix}:history:{{{stream}}}:log"

    async def append(
        self, stream: str, event: OutboundEvent, *, channel: str = "", message: str = ""
    ) -> OutboundEvent:
        """Number and keep ``event``; publish ``message`` (JSON object text) with its position on ``channel``.

        Raises:
            DeliveryUnavailable: Redis could not do it; nothing was kept nor published.
        """
        client = self._client()
        script = self._append
        if script is None or script.registered_client is not client:
            script = self._append = client.register_script(_APPEND)
        policy = self.policy
        try:
            epoch, offset = await script(
                keys=self.keys(stream),
                args=(
                    policy.size,
                    int(policy.ttl * 1000),
                    int(META_TTL * 1000),
                    event.req_id or "",
                    event.body,
                    channel,
                    message[:-1],
                    event.skip or "",
                ),
            )
        except (RedisError, OSError) as error:
            raise DeliveryUnavailable("The event could not be kept in its stream's history.") from error
        position = StreamPosition(stream, epoch.decode(), int(offset))
        return OutboundEvent(event.req_id, event.body, event.skip, position)

    async def mark(self, stream: str) -> None:
        """Leave a kick's mark in ``stream``, unpublished (see ``replay.KICK_MARK``).

        Raises:
            DeliveryUnavailable: Redis could not take it.
        """
        await self.append(stream, OutboundEvent(None, KICK_MARK))

    async def read(self, stream: str, epoch: str, after: int) -> Replay:
        """The events of ``stream`` after offset ``after`` of ``epoch``, or why they cannot be had.

        Raises:
            DeliveryUnavailable: Redis could not be read.
        """
        client = self._client()
        script = self._read
        if script is None or script.registered_client is not client:
            script = self._read = client.register_script(_READ)
        try:
            current, top, entries = await script(keys=self.keys(stream), args=(after + 1,))
        except (RedisError, OSError) as error:
            raise DeliveryUnavailable("The history of the stream cannot be read now.") from error
        current_epoch = current.decode() or None
        events = []
        for entry_id, fields in entries:
            values = dict(zip(fields[::2], fields[1::2], strict=True))
            req_id = values[b"r"].decode() or None
            offset = int(entry_id.split(b"-", 1)[0])
            position = StreamPosition(stream, current_epoch or "", offset)
            skip = values.get(b"s", b"").decode() or None
            events.append(OutboundEvent(req_id, values[b"b"].decode(), skip, position))
        return replay_of(stream, epoch, after, current=current_epoch, top=int(top), events=events)
