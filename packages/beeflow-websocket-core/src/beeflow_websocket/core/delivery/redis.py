"""Delivery across processes and machines through Redis pub/sub (the ``redis`` extra).

Each process keeps its own connections and group memberships in a
:class:`~beeflow_websocket.core.delivery.local.LocalConnections` and subscribes, on one Redis connection, to
the channels it has members for: one channel per group (a user's connections form a group too) and
one shared channel for events addressed to single connections. An event is delivered to this
process's connections directly and published once for the others; each message names the process
that sent it, which skips it when it comes back.

When Redis is unreachable, publishing raises
:class:`~beeflow_websocket.core.problems.DeliveryUnavailable` (the sender gets a 503 frame) and the
subscriber keeps reconnecting (every half second at most); once Redis is back, it subscribes to every
channel it needs again and delivery resumes by itself. Connections of this process keep reaching
each other throughout. Redis pub/sub does not store messages: an event published in the moment after
Redis returns, before another process has subscribed again, does not reach that process, unless its
stream keeps a history: then every v1 connection of the process reads what its streams sent
meanwhile once the subscription is back.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Collection
from typing import Final
from uuid import uuid4

try:
    import redis.asyncio as redis
    from redis.exceptions import RedisError
except ModuleNotFoundError as missing:  # pragma: no cover - exercised in a subprocess by the tests
    if missing.name != "redis":
        raise
    raise ModuleNotFoundError(
        "delivery through Redis (redis_url=...) needs redis-py, which the redis extra installs: "
        'uv add "beeflow-websocket[redis]" (or "beeflow-websocket-core[redis]")',
        name="redis",
    ) from missing

from beeflow_websocket.core.delivery.local import LocalConnections
from beeflow_websocket.core.guardrails.redis_tokens import RedisTokens
from beeflow_websocket.core.history.positions import HistoryPolicy, StreamPosition
from beeflow_websocket.core.history.redis_history import RedisHistory
from beeflow_websocket.core.problems import DeliveryUnavailable
from beeflow_websocket.core.retries.redis_ledger import RedisLedger
from beeflow_websocket.core.transport import OutboundEvent

__all__ = ["RedisDelivery"]

# The logger keeps the name it was documented under (docs/en/logging.md).
logger: Final = logging.getLogger("beeflow_websocket.core.redis_delivery")

_RETRY_DELAYS: Final = (0.05, 0.1, 0.25, 0.5)
_POLL_TIMEOUT: Final = 1.0


class RedisDelivery:
    """A :class:`~beeflow_websocket.core.transport.Delivery` engine over Redis pub/sub.

    Args:
        url: The Redis URL, such as ``redis://127.0.0.1:6379/0``.
        local: This process's connections.
        channel_prefix: Prefix of every Redis channel; applications sharing one Redis each need their
            own.
        timeout: Seconds a Redis operation may take before it counts as failed.
        history: Which streams keep a history (in Redis, shared by every process); ``None``: none.
    """

    def __init__(
        self,
        url: str,
        local: LocalConnections,
        *,
        channel_prefix: str = "beeflow-websocket",
        timeout: float = 2.0,
        history: HistoryPolicy | None = None,
    ) -> None:
        self.url = url
        self.local = local
        self.channel_prefix = channel_prefix
        self.timeout = timeout
        self.node = uuid4().hex
        self._client: redis.Redis | None = None
        self._pubsub: redis.client.PubSub | None = None
        self._listener: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock: asyncio.Lock | None = None
        self._wanted: set[str] = {self._connections_channel}
        self.tokens = RedisTokens(self._redis, prefix=channel_prefix, fallback=local.tokens)
        """The users' rate-limit buckets, shared by every process (see ``guardrails.redis_tokens``)."""
        self.ledger = RedisLedger(self._redis, prefix=channel_prefix)
        """The requests started, for ``retry_window``, shared by every process (see ``retries``)."""
        self.history = (
            RedisHistory(self._redis, prefix=channel_prefix, policy=history)
            if history is not None and history.size
            else None
        )
        """The streams' histories, shared by every process (see ``history.redis_history``)."""

    @property
    def _connections_channel(self) -> str:
        return f"{self.channel_prefix}:connections"

    def _group_channel(self, group: str) -> str:
        return f"{self.channel_prefix}:group:{group}"

    async def send_to_connections(self, websocket_ids: Collection[str], event: OutboundEvent) -> None:
        """Deliver to this process's connections; publish for the rest."""
        here = [websocket_id for websocket_id in websocket_ids if websocket_id in self.local]
        elsewhere = [websocket_id for websocket_id in websocket_ids if websocket_id not in self.local]
        if here:
            await self.local.send_to_connections(here, event)
        if elsewhere:
            await self._publish(self._connections_channel, _event_message(event) | {"ids": elsewhere})

    async def send_to_group(self, group: str, event: OutboundEvent) -> OutboundEvent:
        """Deliver to this process's members of ``group``; publish for the other processes.

        An event of a stream that keeps a history is numbered, kept and published in one step
        first, then delivered here with its position: every process hears the stream in offset order.
        """
        history = self.history
        if history is None or not history.policy.keeps(group):
            await self.local.send_to_group(group, event)
            await self._publish(self._group_channel(group), _event_message(event))
            return event
        channel = self._group_channel(group)
        message = json.dumps(_event_message(event) | {"origin": self.node})
        try:
            event = await history.append(group, event, channel=channel, message=message)
        except DeliveryUnavailable as problem:
            logger.error(
                "Redis at %s is unreachable; an event for %s was neither kept nor handed over: %s",
                self.url,
                channel,
                problem.__cause__,
            )
            raise DeliveryUnavailable() from problem.__cause__
        await self.local.send_to_members(group, event)
        return event

    async def close_connections(self, websocket_ids: Collection[str], code: int, reason: str) -> None:
        """Close this process's connections of ``websocket_ids``; publish for the rest."""
        await self.local.close_connections(websocket_ids, code, reason)
        elsewhere = [websocket_id for websocket_id in websocket_ids if websocket_id not in self.local]
        if elsewhere:
            await self._publish(self._connections_channel, {"close": [code, reason], "ids": elsewhere})

    async def close_group(self, group: str, code: int, reason: str) -> None:
        """Close this process's members of ``group``; publish for the other processes."""
        await self.local.close_group(group, code, reason)
        await self._publish(self._group_channel(group), {"close": [code, reason]})

    async def add_to_group(self, group: str, websocket_id: str) -> None:
        """Record the membership here, and make sure this process hears the group's channel.

        The subscription is made before this returns, so an event published right after a join
        reaches the new member. While Redis is down the membership is kept here and subscribed to
        when the connection to Redis is back.
        """
        await self.local.add_to_group(group, websocket_id)
        channel = self._group_channel(group)
        if channel not in self._wanted:
            self._wanted.add(channel)
            try:
                pubsub, fresh = await self._subscription()
                if not fresh:
                    await pubsub.subscribe(channel)
            except (RedisError, OSError):
                logger.debug("could not subscribe to %s now; it is subscribed on reconnect", channel)
        self._start()

    async def remove_from_group(self, group: str, websocket_id: str) -> None:
        """Drop the membership; stop hearing the group once no connection here is in it."""
        await self.local.remove_from_group(group, websocket_id)
        channel = self._group_channel(group)
        if not self.local.members(group) and channel in self._wanted:
            self._wanted.discard(channel)
            await self._unsubscribe(channel)

    async def close(self) -> None:
        """Stop listening and close the Redis connections."""
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
            self._listener = None
        await self._reset()
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def serves_this_loop(self) -> bool:
        """Whether the engine runs on the running event loop, serving this process's connections.

        A push from another loop (a synchronous task's ``async_to_sync``) should publish through an
        engine of its own: this one's Redis client and listener belong to their loop.
        """
        return self._loop is asyncio.get_running_loop()

    def _redis(self) -> redis.Redis:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            # A client belongs to the loop it was made on; a new loop (a new test client) gets its own.
            self._client = redis.Redis.from_url(
                self.url, socket_timeout=self.timeout, socket_connect_timeout=self.timeout
            )
            self._loop = loop
            self._listener = None
            self._pubsub = None
            self._lock = asyncio.Lock()
        return self._client

    async def _subscription(self) -> tuple[redis.client.PubSub, bool]:
        """The subscription every channel of this process is heard on; ``True`` when just made."""
        self._redis()
        lock = self._lock or asyncio.Lock()
        self._lock = lock
        async with lock:
            if self._pubsub is not None:
                return self._pubsub, False
            pubsub = self._redis().pubsub(ignore_subscribe_messages=True)
            await pubsub.subscribe(*self._wanted)
            self._pubsub = pubsub
            return pubsub, True

    async def _publish(self, channel: str, message: dict[str, object]) -> None:
        try:
            await self._redis().publish(channel, json.dumps(message | {"origin": self.node}))
        except (RedisError, OSError) as error:
            logger.error(
                "Redis at %s is unreachable; a message for %s was not handed over: %s",
                self.url,
                channel,
                error,
            )
            raise DeliveryUnavailable() from error

    def _start(self) -> None:
        self._redis()
        if self._listener is None or self._listener.done():
            self._listener = asyncio.get_running_loop().create_task(
                self._listen(), name="beeflow-websocket redis"
            )

    async def _unsubscribe(self, channel: str) -> None:
        if self._pubsub is not None:
            try:
                await self._pubsub.unsubscribe(channel)
            except (RedisError, OSError):
                logger.debug("could not unsubscribe from %s now", channel)

    async def _listen(self) -> None:
        failures = 0
        while True:
            try:
                pubsub, _ = await self._subscription()
                if failures:
                    logger.warning(
                        "Redis at %s is reachable again; delivery between processes resumed", self.url
                    )
                    # Events kept while this process was not subscribed were not heard: each
                    # connection reads what its streams sent meanwhile from their histories.
                    self.local.recheck_streams()
                failures = 0
                while True:
                    message = await pubsub.get_message(timeout=_POLL_TIMEOUT)
                    if message is not None:
                        self._handle(message)
            except (RedisError, OSError) as error:
                if not failures:
                    logger.error(
                        "lost the Redis subscription at %s (%s): events other processes publish until it "
                        "is back do not reach this process's connections; reconnecting",
                        self.url,
                        error,
                    )
                await self._reset()
                await asyncio.sleep(_RETRY_DELAYS[min(failures, len(_RETRY_DELAYS) - 1)])
                failures += 1

    async def _reset(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            try:
                await pubsub.aclose()  # type: ignore[no-untyped-call]
            except (RedisError, OSError):
                logger.debug("closing a broken Redis subscription failed", exc_info=True)

    def _handle(self, message: dict[str, object]) -> None:
        try:
            data = json.loads(message["data"])  # type: ignore[arg-type]
            if data["origin"] == self.node:
                return
            close = data.get("close")
            stamped: tuple[str, int] | None = None
            if close is not None:
                code, reason = int(close[0]), str(close[1])
            else:
                event = OutboundEvent(req_id=data["req_id"], body=data["body"])
                if "offset" in data:
                    stamped = (str(data["epoch"]), int(data["offset"]))
        except (ValueError, KeyError, TypeError, IndexError):
            logger.warning("ignored a malformed message on %s", message.get("channel"))
            return
        channel = message["channel"]
        channel = channel.decode() if isinstance(channel, bytes) else str(channel)
        if channel == self._connections_channel:
            ids: Collection[str] = [i for i in data.get("ids", ()) if i in self.local]
        else:
            group = channel.removeprefix(f"{self.channel_prefix}:group:")
            ids = self.local.members(group)
            if stamped is not None:
                event = OutboundEvent(event.req_id, event.body, None, StreamPosition(group, *stamped))
        if close is None:
            # Handed over without waiting for any connection: a listener held up by one stalled
            # client stops reading Redis, which then drops the whole process's subscription.
            self.local.post_to_connections(ids, event)
        else:
            for websocket_id in ids:
                self.local.disconnect(websocket_id, code, reason)


def _event_message(event: OutboundEvent) -> dict[str, object]:
    return {"req_id": event.req_id, "body": event.body}
