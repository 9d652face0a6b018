"""The connection dispatcher: the runtime that serves one connection, composed of small parts.

An adapter creates one :class:`ConnectionDispatcher` per accepted connection and gives it a
:class:`~beeflow_websocket.core.transport.Transport` (this connection) and a
:class:`~beeflow_websocket.core.transport.Delivery` engine (every connection). It calls
:meth:`~ConnectionDispatcher.open` once accepted, :meth:`~ConnectionDispatcher.receive` for each frame
the client sends, :meth:`~ConnectionDispatcher.deliver` for each event the engine brings, and
:meth:`~ConnectionDispatcher.close` when the client has gone (``beeflow_websocket.core.lifecycle``
does all four for the adapters). The connection always survives bad input.

The parts, each with one job:

- :class:`~beeflow_websocket.core.protocol.ConnectionProtocol`: the pure decisions (frame in,
  request or problem out; ``seq``; the connection's state);
- :class:`~beeflow_websocket.core._inbox.Inbox`: received requests waiting for an action slot;
- :mod:`~beeflow_websocket.core._execution`: running one request's action, and stopping it;
- :func:`~beeflow_websocket.core.routing.route`: where each yielded event goes;
- :class:`~beeflow_websocket.core._outbox.Outbox`: frames waiting to be written, one writer, and
  the slow-consumer policy;
- :class:`~beeflow_websocket.core.guardrails.limiter.RequestLimiter`: the rate limits, only when
  some apply (a request is refused 429 before it waits for a slot);
- :class:`~beeflow_websocket.core._retries.ConnectionRetries`: the ledger of started requests, only
  with ``retry_window`` in v1 (a request sent again after a lost connection is not run twice).

The dispatcher wires them together, keeps the connection's group membership and, in protocol v1,
its running requests, so that ``beeflow.cancel`` finds them; ``beeflow.cancel`` and ``beeflow.ping``
are handled as they arrive, never behind the requests that wait for a slot.
"""

from __future__ import annotations

import asyncio
import logging
import time
from functools import partial
from typing import TYPE_CHECKING, Final

from beeflow_websocket.core._execution import RunningRequest, run_action
from beeflow_websocket.core._inbox import Inbox
from beeflow_websocket.core._outbox import Outbox
from beeflow_websocket.core._retries import ConnectionRetries
from beeflow_websocket.core._streams import RESYNC_CLOSE_CODE, RESYNC_REASON, ConnectionStreams
from beeflow_websocket.core.action_registry import ActionContext, UserId
from beeflow_websocket.core.groups import checked_group_name, user_group
from beeflow_websocket.core.guardrails.expiry import (
    TOKEN_EXPIRED_CLOSE_CODE,
    TOKEN_EXPIRED_REASON,
    Expiry,
    TokenLease,
    expiring_event,
    expiry_timestamp,
    renewed_expiry,
)
from beeflow_websocket.core.guardrails.expiry import (
    Refresh as RefreshHook,
)
from beeflow_websocket.core.guardrails.limiter import (
    RATE_LIMITED_CLOSE_CODE,
    RATE_LIMITED_REASON,
    RequestLimiter,
    tokens_of,
)
from beeflow_websocket.core.history.replay import lost_stream as _lost
from beeflow_websocket.core.history.replay import resumed_event
from beeflow_websocket.core.history.store import history_of
from beeflow_websocket.core.problems import (
    DeliveryUnavailable,
    RequestCancelled,
    TokenRefused,
    UnknownRequest,
    UnrecoverablePosition,
)
from beeflow_websocket.core.protocol import (
    Cancel,
    ConnectionProtocol,
    OwnEvent,
    Ping,
    Refresh,
    Rejection,
    Reply,
    Request,
    Resume,
)
from beeflow_websocket.core.retries.ledger import ledger_of
from beeflow_websocket.core.routing import route
from beeflow_websocket.core.settings import DEFAULT_SETTINGS, DispatcherSettings
from beeflow_websocket.core.transport import IDLE_CLOSE_CODE, SLOW_CONSUMER_CLOSE_CODE

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from uuid import UUID

    from pydantic import JsonValue

    from beeflow_websocket.core.event_registry import EventPluginProtocol
    from beeflow_websocket.core.history.replay import Unrecoverable
    from beeflow_websocket.core.negotiation import ProtocolVersion
    from beeflow_websocket.core.problems import RateLimited, WebSocketProblem
    from beeflow_websocket.core.transport import Delivery, OutboundEvent, Transport

__all__ = ["ConnectionDispatcher"]

logger: Final = logging.getLogger(__name__)


class ConnectionDispatcher:
    """Runs the protocol for one connection.

    Args:
        transport: Writes to this connection, and closes it.
        delivery: Reaches other connections and groups, in this process or others.
        websocket_id: This connection's id, unique among live connections of the deployment.
        user_id: The authenticated user's id.
        path: The connection path, sent as ``instance`` in error frames.
        settings: Protocol settings shared by the adapter's connections.
        protocol_version: What the handshake negotiated: 0 (0.3.0 frames) or 1.
    """

    __slots__ = (
        "_closing",
        "_groups",
        "_heard",
        "_inbox",
        "_lease",
        "_limiter",
        "_member_of",
        "_outbox",
        "_refresh",
        "_requests",
        "_retries",
        "_streams",
        "_torn_down",
        "_watchdog",
        "context",
        "delivery",
        "protocol",
        "transport",
    )

    def __init__(
        self,
        transport: Transport,
        *,
        delivery: Delivery,
        websocket_id: str,
        user_id: UserId,
        path: str,
        settings: DispatcherSettings = DEFAULT_SETTINGS,
        protocol_version: ProtocolVersion = 0,
        expires_at: Expiry = None,
        refresh: RefreshHook | None = None,
    ) -> None:
        self.transport = transport
        self.delivery = delivery
        self.context = ActionContext(websocket_id=websocket_id, user_id=user_id, membership=self)
        self.protocol = ConnectionProtocol(
            path=path, settings=settings, version=protocol_version, websocket_id=websocket_id
        )
        self._groups: frozenset[str] = frozenset()
        # Every group this connection is in, its user's included: its own events to them reach it directly.
        self._member_of = frozenset((user_group(user_id),))
        # v1: the requests beeflow.cancel can find, by req_id (its int: a UUID hashes in Python code).
        self._requests: dict[int, RunningRequest] = {}
        self._torn_down = False
        self._limiter = (
            RequestLimiter(settings, user_id=user_id, tokens=tokens_of(delivery))
            if RequestLimiter.needed(settings)
            else None
        )
        self._retries = (
            ConnectionRetries(ledger_of(delivery), owner=str(user_id), window=settings.retry_window)
            if protocol_version and settings.retry_window is not None
            else None
        )
        self._refresh = refresh
        self._lease: TokenLease | None = None
        self._expire_at(expiry_timestamp(expires_at))
        self._heard = 0.0  # when the client last sent a frame (monotonic), with an idle_timeout
        self._watchdog: asyncio.TimerHandle | None = None
        self._closing: asyncio.Task[None] | None = None
        self._inbox: Inbox[RunningRequest | Rejection] = Inbox(
            self._handle, workers=settings.max_concurrent_actions, limit=settings.max_pending_messages
        )
        self._outbox = Outbox(
            transport,
            self.protocol,
            limit=settings.max_outbound_messages,
            stall_timeout=settings.slow_consumer_timeout,
            on_stalled=self._stalled,
            connection_id=websocket_id,
        )
        history = history_of(delivery) if protocol_version else None
        # v1 with stream histories: each stream's events once and in order (protocol 0 has no positions).
        self._streams = (
            None
            if history is None
            else ConnectionStreams(history, self._outbox, websocket_id=websocket_id, on_lost=self._resync)
        )

    @property
    def websocket_id(self) -> str:
        """This connection's id."""
        return self.context.websocket_id

    @property
    def path(self) -> str:
        """The connection path, sent as ``instance`` in error frames."""
        return self.protocol.path

    @property
    def settings(self) -> DispatcherSettings:
        """The protocol settings this connection was served with."""
        return self.protocol.settings

    @property
    def seq(self) -> int:
        """The ``seq`` of the last event frame this connection was sent; 0 before the first."""
        return self.protocol.seq

    @property
    def closed(self) -> bool:
        """Whether the connection has gone: nothing is received or sent any more."""
        return not self.protocol.open

    @property
    def groups(self) -> frozenset[str]:
        """The application groups this connection has joined."""
        return self._groups

    async def open(self) -> None:
        """Start serving an accepted connection: join its user's group.

        Raises:
            DeliveryUnavailable: The engine could not record the connection; refuse or close it.
        """
        await self.delivery.add_to_group(user_group(self.context.user_id), self.websocket_id)
        if self.settings.idle_timeout is not None:
            self._heard = time.monotonic()
            self._watch()
        if self._lease is not None:
            self._lease.start()

    async def join(self, group: str) -> None:
        """Put this connection into ``group`` (what ``context.join`` does)."""
        await self.delivery.add_to_group(checked_group_name(group), self.websocket_id)
        self._groups |= {group}
        self._member_of |= {group}

    async def leave(self, group: str) -> None:
        """Take this connection out of ``group`` (what ``context.leave`` does)."""
        await self.delivery.remove_from_group(checked_group_name(group), self.websocket_id)
        self._groups -= {group}
        self._member_of -= {group}
        if self._streams is not None:
            self._streams.forget(group)

    async def receive(self, frame: str | bytes) -> None:
        """Accept one frame from the client; it is handled in order by the connection's workers.

        Returns as soon as the frame is queued, or, when a worker is free, as soon as its action first
        waits (an action that never waits is answered before this returns). Waits while
        ``max_pending_messages`` frames are already waiting, which is the backpressure that slows a
        flooding client down. In v1, ``beeflow.cancel`` and ``beeflow.ping`` are answered here, at
        once. Frames that arrive after :meth:`close` are ignored.
        """
        if self._watchdog is not None:
            self._heard = time.monotonic()
        if not self.protocol.open:
            return
        decision = self.protocol.receive(frame)
        item: RunningRequest | Rejection
        if type(decision) is Request:
            message = decision.message
            if self._limiter is not None:
                refused = await self._limiter.check(decision.action_class, message.action)
                if refused is not None:
                    await self._refuse(refused, message.req_id)
                    return
            if self.protocol.version:
                item = RunningRequest(decision.action_class, message, True)
                outbox = self._outbox
                outbox.eager = True  # what the request holds is written when offer() returns
                try:
                    offered = self._inbox.offer(item)
                finally:
                    outbox.eager = False
                if item.phase == "over":
                    return  # it ended in that step, its frames written (the usual answer)
                outbox.eager_step_over()
                # Listed for beeflow.cancel only now that it waits: a cancel is read only after this.
                self._requests[message.req_id.int] = item
                if not offered:
                    await self._inbox.put(item)
                return
            item = RunningRequest(decision.action_class, message, False)
        elif type(decision) is Rejection:
            item = decision
        else:
            await self._control(decision)  # type: ignore[arg-type]
            return
        if not self._inbox.offer(item):
            await self._inbox.put(item)

    async def _refuse(self, problem: RateLimited, req_id: UUID) -> None:
        """Answer a request its rate limits refused, in order; close a client past its refusal budget."""
        rejection = Rejection(problem, req_id)
        if not self._inbox.offer(rejection):
            await self._inbox.put(rejection)
        if self._limiter is not None and self._limiter.exhausted and self.protocol.open:
            logger.warning(
                "closing connection %s: it went on asking past %s refusals of its rate limits",
                self.websocket_id,
                self.settings.rate_limit_budget,
            )
            self._close_soon(RATE_LIMITED_CLOSE_CODE, RATE_LIMITED_REASON)

    async def wait_idle(self) -> None:
        """Wait until every frame received so far has been handled and its answers written."""
        await self._inbox.join()
        await self._outbox.join()

    async def close(self) -> None:
        """The client has gone: stop the running actions, leave every group, send nothing more.

        Each running action's generator is closed, so its ``finally`` blocks run; frames still
        waiting, in or out, are dropped. A normal disconnect logs no error.
        """
        self.protocol.closing()
        if self._torn_down:
            return
        self._torn_down = True
        if self._watchdog is not None:
            self._watchdog.cancel()
        if self._lease is not None:
            self._lease.stop()
        await self._inbox.stop()
        await self._outbox.stop()
        if self._retries is not None:
            await self._retries.interrupt()
        if self._streams is not None:
            await self._streams.stop()
        for group in (user_group(self.context.user_id), *self._groups):
            try:
                await self.delivery.remove_from_group(group, self.websocket_id)
            except Exception:
                logger.debug(
                    "connection %s could not leave group %s", self.websocket_id, group, exc_info=True
                )
        self._groups = frozenset()
        self.protocol.closed()

    def offer(self, event: OutboundEvent) -> bool:
        """Queue an event from elsewhere if there is room now, without waiting; ``False`` if there is not.

        A sender with many receivers offers to each first and waits only for the full ones, all at
        once (see :meth:`LocalConnections.send_to_connections`), so a stalled receiver costs the
        others at most one ``slow_consumer_timeout``, not one per stalled receiver. Dropped once closed.
        """
        if event.position is not None and self._streams is not None and not self._admit(event):
            return True
        if event.skip == self.context.websocket_id:
            return True
        return self._outbox.offer(event)

    async def deliver(self, event: OutboundEvent) -> None:
        """Queue an event from elsewhere for this connection; it is numbered as it is written.

        When the outbound queue is full the sender waits for room, which absorbs bursts to a client
        that is reading, however slowly. A client to which nothing at all could be written for
        ``slow_consumer_timeout`` has stopped reading: its connection is closed with 1013 and the
        sender goes on. Dropped once closed.
        """
        if event.position is not None and self._streams is not None and not self._admit(event):
            return
        if event.skip != self.context.websocket_id:
            await self._outbox.deliver(event)

    def post(self, event: OutboundEvent) -> None:
        """Queue an event from elsewhere without ever waiting, for a sender that feeds many connections.

        The Redis listener of a process hands every event over this way, so that one stalled
        connection never holds up the others, nor the listener (which Redis would drop). Events
        that find no room wait in line for this connection, in order, and are delivered as
        :meth:`deliver` does. Dropped once closed.
        """
        if event.position is not None and self._streams is not None and not self._admit(event):
            return
        if event.skip != self.context.websocket_id:
            self._outbox.post(event)

    def recheck_streams(self) -> None:
        """Read what this connection's streams kept since its last event of each (events may be unheard)."""
        if self._streams is not None and self.protocol.open:
            self._streams.recheck()

    def _admit(self, event: OutboundEvent) -> bool:
        """Whether to write an event of a stream now (see :class:`ConnectionStreams`)."""
        streams = self._streams
        position = event.position
        assert streams is not None  # noqa: S101 - checked by the callers
        assert position is not None  # noqa: S101 - checked by the callers
        if event.skip == self.context.websocket_id:
            streams.passed(position)  # skipped here, but counted: no gap for it
            return False
        return streams.admit(event, position)

    def disconnect(self, code: int, reason: str) -> None:
        """Close the connection from the server side with ``code`` and ``reason``, in a task of its own.

        Its running actions are stopped and frames still waiting to be written are dropped, as when
        the client goes. Nothing happens once the connection is closing.
        """
        if self.protocol.open:
            logger.info("closing connection %s with %d: %s", self.websocket_id, code, reason)
            self._close_soon(code, reason)

    def _expire_at(self, expires_at: float | None, *, started: bool = False) -> None:
        """Hold the connection to credentials that expire at ``expires_at`` (``None``: never)."""
        if self._lease is not None:
            self._lease.renew(expires_at)
        elif expires_at is not None:
            self._lease = TokenLease(
                expires_at,
                notice=self.settings.token_expiry_notice,
                grace=self.settings.token_expiry_grace,
                on_notice=self._expiring,
                on_expired=self._expired,
            )
            if started:
                self._lease.start()

    def _expiring(self, seconds_left: float) -> None:
        if self.protocol.version and self.protocol.open:
            self._outbox.post(expiring_event(self.websocket_id, seconds_left))

    def _expired(self) -> None:
        if self.protocol.open:
            logger.info("closing connection %s: its credentials expired unrefreshed", self.websocket_id)
            self._close_soon(TOKEN_EXPIRED_CLOSE_CODE, TOKEN_EXPIRED_REASON)

    def _resync(self) -> None:
        if self.protocol.open:
            self._close_soon(RESYNC_CLOSE_CODE, RESYNC_REASON)

    def _stalled(self) -> None:
        self._close_soon(SLOW_CONSUMER_CLOSE_CODE, "outbound queue full: the client is not reading")

    def _close_soon(self, code: int, reason: str) -> None:
        self.protocol.closing()
        self._closing = asyncio.get_running_loop().create_task(self._close_with(code, reason))

    def _watch(self) -> None:
        """Close the connection once the client has sent nothing for ``idle_timeout``; else look again then.

        One timer per connection, moved only when it fires: a frame merely notes the time, so the
        watch costs a frame one clock read.
        """
        timeout = self.settings.idle_timeout
        if timeout is None:
            return
        left = self._heard + timeout - time.monotonic()
        loop = asyncio.get_running_loop()
        if left > 0:
            self._watchdog = loop.call_later(left, self._watch)
            return
        self._watchdog = None
        if self.protocol.open:
            logger.info("closing connection %s: nothing received for %.1f s", self.websocket_id, timeout)
            self._close_soon(IDLE_CLOSE_CODE, f"idle: nothing received for {timeout:g} s")

    async def _close_with(self, code: int, reason: str) -> None:
        try:
            await self.transport.close(code, reason)
        except Exception:
            logger.debug("connection %s was already closing", self.websocket_id, exc_info=True)
        await self.close()

    async def _handle(self, item: RunningRequest | Rejection) -> None:
        if not self.protocol.open:
            return
        if type(item) is Rejection:
            logger.debug("rejected a frame on connection %s: %s", self.websocket_id, item.problem.code)
            final = None if item.req_id is None or not self.protocol.version else True
            await self._send_problem(item.problem, item.req_id, final)
            return
        run: RunningRequest = item  # type: ignore[assignment]
        if run.stopping is not None:
            return  # cancelled while it waited: answered then
        retries = self._retries
        try:
            if retries is not None and not await self._recorded(run, retries):
                return
            await run_action(
                run,
                self.context,
                emit=self._emit,
                answer=self._end_with,
                complete=self._outbox.finish if retries is None else self._complete_recorded,
                default_timeout=self.settings.action_timeout,
            )
        finally:
            if run.replied and self._requests:  # most requests end unlisted (see receive)
                key = run.req_id.int
                if self._requests.get(key) is run:
                    del self._requests[key]

    async def _recorded(self, run: RunningRequest, retries: ConnectionRetries) -> bool:
        """Whether the ledger let ``run`` start; else it has been answered why not."""
        refused = await retries.begin(run.message.msg_id)
        if run.stopping is not None:  # cancelled while it was being recorded: answered then
            if refused is None:
                await retries.settle(run.message.msg_id, "failed")
            return False
        if refused is not None:
            run.phase = "over"
            await self._end_with(refused, run)
            return False
        return True

    async def _control(self, request: Cancel | Ping | Refresh | Resume) -> None:
        """v1: answer ``beeflow.cancel``, ``beeflow.ping``, ``beeflow.refresh`` or ``beeflow.resume`` now."""
        if type(request) is Resume:
            await self._resume(request)
            return
        if type(request) is Refresh:
            renewed = await renewed_expiry(self._refresh, request.token, self.context.user_id)
            if isinstance(renewed, TokenRefused):
                await self._send_problem(renewed, request.req_id, True)
                return
            self._expire_at(renewed, started=True)
        elif type(request) is Cancel:
            target = self._requests.get(request.target.int)
            if target is None:
                await self._send_problem(UnknownRequest(), request.req_id, True)
                return
            if target.stop(RequestCancelled()) == "waiting":
                del self._requests[request.target.int]
                await self._send_problem(RequestCancelled(), request.target, True)
        completion = self.protocol.end(Reply(request.req_id))
        if completion is not None:
            await self._outbox.send(completion)

    async def _resume(self, request: Resume) -> None:
        """v1: replay each stream the client names from its position, or say it cannot be.

        Each stream is recovered whole, its missed events then ``beeflow.resumed``, or listed in the
        ``unrecoverable_position`` problem that ends the request; never in part. Only the streams this
        connection is in now can be resumed: its user's, and the groups it has joined (by actions,
        which authorise each join), so a resume grants nothing the credentials do not.
        """
        reply = Reply(request.req_id)
        lost: list[JsonValue] = []
        for position in request.positions:
            reason = self._unresumable(position.stream)
            if reason is not None:
                lost.append(_lost(position.stream, "", 0, reason))
                continue
            streams = self._streams
            assert streams is not None  # noqa: S101 - _unresumable says no_history without it
            try:
                replay, events = await streams.resume(position)
            except DeliveryUnavailable as problem:
                await self._send_problem(problem, request.req_id, True)
                return
            if replay.reason is not None:
                lost.append(_lost(replay.stream, replay.epoch, replay.top, replay.reason))
                streams.release(position.stream)
                continue
            try:
                for event in events:
                    await self._outbox.send(event)
                self.protocol.own(reply)
                resumed = resumed_event(self.websocket_id, str(request.req_id), replay, len(events))
                await self._outbox.send(OwnEvent(resumed, reply))
            finally:
                streams.release(position.stream)
        if lost:
            reply.ended = True
            unrecoverable = UnrecoverablePosition(extensions={"streams": lost})
            await self._send_problem(unrecoverable, request.req_id, True)
            return
        completion = self.protocol.end(reply)
        if completion is not None:
            await self._outbox.send(completion)

    def _unresumable(self, stream: str) -> Unrecoverable | None:
        """Why this connection cannot resume ``stream``, or ``None`` when it can."""
        if self._streams is None or not self._streams.keeps(stream):
            return "no_history"
        if stream != user_group(self.context.user_id) and stream not in self._groups:
            return "not_a_member"
        return None

    async def _emit(self, event: EventPluginProtocol, run: RunningRequest) -> None:
        own = partial(self._outbox.hold, run) if run.replied else self._outbox.send
        if self._streams is not None:
            own = partial(self._own_positioned, own)
        try:
            await route(
                event, self.delivery, own_id=self.context.websocket_id, own=own, own_groups=self._member_of
            )
        except DeliveryUnavailable as problem:
            # The action goes on: only the hand-over of this event failed, and the engine recovers.
            logger.error(
                "event %r of action request %s could not be handed over for delivery",
                event.event_name,
                event.req_id,
            )
            await self._send_problem(problem, run.req_id, False if run.replied else None)

    def _own_positioned(
        self, own: Callable[[OutboundEvent], Awaitable[None] | None], event: OutboundEvent
    ) -> Awaitable[None] | None:
        """Hand the connection its own copy of an event, counting its stream position as written."""
        if event.position is not None and self._streams is not None:
            self._streams.passed(event.position)
        return own(event)

    async def _end_with(self, problem: WebSocketProblem, run: RunningRequest) -> None:
        """End the request with ``problem``, its terminal frame in v1."""
        if self._retries is not None:
            await self._retries.settle(run.message.msg_id, "failed")
        await self._send_problem(problem, run.req_id, True if run.replied else None)

    async def _complete_recorded(self, run: RunningRequest) -> None:
        """:meth:`Outbox.finish`, once the ledger has recorded that the request completed."""
        assert self._retries is not None  # noqa: S101 - chosen only with a ledger
        await self._retries.settle(run.message.msg_id, "completed")
        await self._outbox.finish(run)

    async def _send_problem(self, problem: WebSocketProblem, req_id: UUID | None, final: bool | None) -> None:
        if self.protocol.open:
            await self._outbox.send(self.protocol.problem_frame(problem, req_id, final=final))
