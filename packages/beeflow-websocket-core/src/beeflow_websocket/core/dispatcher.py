"""The connection dispatcher: the whole protocol, for one connection, with no I/O of its own.

An adapter creates one :class:`ConnectionDispatcher` per accepted connection and gives it a
:class:`~beeflow_websocket.core.transport.Transport` (this connection) and a
:class:`~beeflow_websocket.core.transport.Delivery` engine (every connection). It calls
:meth:`~ConnectionDispatcher.open` once accepted, :meth:`~ConnectionDispatcher.receive` for each frame
the client sends, :meth:`~ConnectionDispatcher.deliver` for each event the engine brings, and
:meth:`~ConnectionDispatcher.close` when the client has gone. Everything else is decided here, once
for every framework: the size limit, decoding, envelope and payload validation, action lookup,
running the action, recipient resolution, groups, ``msg_id`` and ``seq``, and the Problem Details
frame for every failure. The connection always survives bad input.

Inbound frames wait in a bounded queue for one of ``max_concurrent_actions`` workers. ``receive``
returns as soon as the frame is queued, so the adapter goes on reading and notices a disconnect while
an action is still running; it blocks only while the queue is full, which slows a flooding client
down. Outbound frames wait in a bounded queue for the one task that writes to the connection: the
connection's own actions wait for room, while an event from elsewhere that finds it full closes the
connection (1013), because its client has stopped reading and must not slow anyone else down.

Workers and the writer are tasks started when there is work and ended when there is none, and they
start eagerly: a task runs at once, in the caller, until it first has to wait. A request whose action
never waits (``health``, most lookups) is therefore handled and written inside ``receive``, with no
trip through the event loop, while an action that waits goes on in its own task as before. Idle
connections hold no tasks.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Final
from uuid import UUID

from beeflow_websocket.core._buffer import FrameBuffer
from beeflow_websocket.core._execution import run_action
from beeflow_websocket.core._wire import (
    decode_object,
    encode_problem,
    quoted,
    read_req_id,
    stamp,
    validate_envelope,
)
from beeflow_websocket.core.action_registry import ActionContext, ActionRegistryMeta, UserId
from beeflow_websocket.core.exceptions import ActionDoesNotExist
from beeflow_websocket.core.groups import checked_group_name, user_group
from beeflow_websocket.core.problems import (
    DeliveryUnavailable,
    InternalError,
    InvalidMessage,
    MessageTooLarge,
    UnknownAction,
    WebSocketProblem,
)
from beeflow_websocket.core.routing import route
from beeflow_websocket.core.settings import DEFAULT_SETTINGS, DispatcherSettings
from beeflow_websocket.core.transport import SLOW_CONSUMER_CLOSE_CODE

if TYPE_CHECKING:
    from collections.abc import Coroutine

    from beeflow_websocket.core.event_registry import EventPluginProtocol
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
    """

    __slots__ = (
        "_active",
        "_closed",
        "_groups",
        "_outbox",
        "_pending",
        "_seq",
        "_torn_down",
        "_workers",
        "_writer",
        "_writing",
        "_written",
        "context",
        "delivery",
        "path",
        "settings",
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
    ) -> None:
        self.transport = transport
        self.delivery = delivery
        self.context = ActionContext(websocket_id=websocket_id, user_id=user_id, membership=self)
        self.path = path
        self.settings = settings
        self._seq = 0
        self._written = 0
        self._closed = False
        self._torn_down = False
        self._groups: frozenset[str] = frozenset()
        self._pending: FrameBuffer[str | bytes] = FrameBuffer(settings.max_pending_messages)
        # Events wait unnumbered: ``seq`` is given as each is written, so numbers follow the order in
        # which the client receives frames, whatever order their producers got room in.
        self._outbox: FrameBuffer[str | OutboundEvent] = FrameBuffer(settings.max_outbound_messages)
        self._active = 0
        self._workers: set[asyncio.Task[None]] | None = None
        self._writer: asyncio.Task[None] | None = None
        self._writing = False

    @property
    def websocket_id(self) -> str:
        """This connection's id."""
        return self.context.websocket_id

    @property
    def seq(self) -> int:
        """The ``seq`` of the last event frame this connection was sent; 0 before the first."""
        return self._seq

    @property
    def closed(self) -> bool:
        """Whether the connection has gone: nothing is received or sent any more."""
        return self._closed

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

    async def join(self, group: str) -> None:
        """Put this connection into ``group`` (what ``context.join`` does)."""
        await self.delivery.add_to_group(checked_group_name(group), self.websocket_id)
        self._groups |= {group}

    async def leave(self, group: str) -> None:
        """Take this connection out of ``group`` (what ``context.leave`` does)."""
        await self.delivery.remove_from_group(checked_group_name(group), self.websocket_id)
        self._groups -= {group}

    async def receive(self, frame: str | bytes) -> None:
        """Accept one frame from the client; it is handled in order by the connection's workers.

        Returns as soon as the frame is queued, or, when a worker is free, as soon as its action first
        waits (an action that never waits is answered before this returns). Waits while
        ``max_pending_messages`` frames are already waiting, which is the backpressure that slows a
        flooding client down. Frames that arrive after :meth:`close` are ignored.
        """
        if self._closed:
            return
        if self._active < self.settings.max_concurrent_actions and self._pending.empty():
            # A free worker slot and nothing waiting: hand the frame over directly.
            self._pending.track()
            self._start_worker(frame)
            return
        if self._pending.full():
            await self._pending.put(frame)
        else:
            self._pending.put_nowait(frame)
        if self._active < self.settings.max_concurrent_actions and not self._closed:
            self._start_worker(None)

    def _start_worker(self, first: str | bytes | None) -> None:
        self._active += 1
        worker = self._spawn(self._work(first))
        if not worker.done():
            if self._workers is None:
                self._workers = set()
            self._workers.add(worker)
            worker.add_done_callback(self._workers.discard)

    async def wait_idle(self) -> None:
        """Wait until every frame received so far has been handled and its answers written."""
        await self._pending.join()
        await self._outbox.join()

    async def close(self) -> None:
        """The client has gone: stop the running actions, leave every group, send nothing more.

        Each running action's generator is closed, so its ``finally`` blocks run; frames still
        waiting, in or out, are dropped. A normal disconnect logs no error.
        """
        self._closed = True
        if self._torn_down:
            return
        self._torn_down = True
        tasks = [*(self._workers or ()), *([self._writer] if self._writer is not None else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        # Frames still waiting are dropped; an adapter held back by a full queue is let go.
        while not self._pending.empty():
            self._pending.get_nowait()
            self._pending.task_done()
        for group in (user_group(self.context.user_id), *self._groups):
            try:
                await self.delivery.remove_from_group(group, self.websocket_id)
            except Exception:
                logger.debug(
                    "connection %s could not leave group %s", self.websocket_id, group, exc_info=True
                )
        self._groups = frozenset()

    def offer(self, event: OutboundEvent) -> bool:
        """Queue an event from elsewhere if there is room now, without waiting; ``False`` if there is not.

        A sender with many receivers offers to each first and waits only for the full ones, all at
        once (see :meth:`LocalConnections.send_to_connections`), so a stalled receiver costs the
        others at most one ``slow_consumer_timeout``, not one per stalled receiver. Dropped once closed.
        """
        if self._closed:
            return True
        if self._outbox.full() or self._outbox.waiting():
            return False  # never ahead of those already waiting for room
        self._outbox.put_nowait(event)
        self._write_soon()
        return True

    async def deliver(self, event: OutboundEvent) -> None:
        """Queue an event from elsewhere for this connection; it is numbered as it is written.

        When the outbound queue is full the sender waits for room, which absorbs bursts to a client
        that is reading, however slowly. A client to which nothing at all could be written for
        ``slow_consumer_timeout`` has stopped reading: its connection is closed with 1013 and the
        sender goes on. Progress, not a full queue at one instant, tells a stalled client from a slow
        one. Dropped once closed.
        """
        if self.offer(event):
            return
        while True:
            written = self._written
            try:
                await asyncio.wait_for(self._outbox.put(event), self.settings.slow_consumer_timeout)
            except TimeoutError:
                if self._closed:
                    return
                if self._written == written:  # nothing written for the whole timeout: stalled
                    self._close_stalled()
                    return
            else:
                break
        self._write_soon()

    def _close_stalled(self) -> None:
        self._closed = True
        logger.warning(
            "closing connection %s: nothing could be written to it for %.1f s while %d frames waited; "
            "its client is not reading",
            self.websocket_id,
            self.settings.slow_consumer_timeout,
            self.settings.max_outbound_messages,
        )
        asyncio.get_running_loop().create_task(self._close_slow_consumer())

    def _render(self, item: str | OutboundEvent) -> str:
        """The frame to write now: an event gets the next ``seq`` (the only place it is given)."""
        self._written += 1
        if isinstance(item, str):
            return item
        self._seq += 1
        return stamp(item, self._seq)

    async def _queue_out(self, frame: str | OutboundEvent) -> None:
        """Queue a frame of this connection's own, waiting for room; write it here if nobody is writing.

        Writing in the caller's task saves starting a writer for the usual single answer. It is only
        ever this connection's own worker that waits here, so a slow client slows only itself.
        Dropped once the connection is closed.
        """
        if self._closed:
            return
        if not self._writing and self._outbox.empty():
            # Nothing queued and nobody writing: write it here, without queueing it.
            self._writing = True
            try:
                await self.transport.send(self._render(frame))
            except Exception:
                self._gone()
            finally:
                self._writing = False
            self._write_soon()  # what arrived from elsewhere meanwhile
            return
        if self._outbox.full():
            await self._outbox.put(frame)
        else:
            self._outbox.put_nowait(frame)
        if not self._writing:
            self._writing = True
            await self._write_frames()

    @staticmethod
    def _spawn(work: Coroutine[None, None, None]) -> asyncio.Task[None]:
        """Run ``work`` in a task of its own, started eagerly: at once, here, until it first waits."""
        return asyncio.Task(work, loop=asyncio.get_running_loop(), eager_start=True)

    def _write_soon(self) -> None:
        """Start the writer unless it is running; it writes until the outbound queue is empty."""
        if self._writing or self._outbox.empty():
            return
        self._writing = True
        writer = self._spawn(self._write_frames())
        if not writer.done():
            self._writer = writer

    async def _write_frames(self) -> None:
        """Write the outbound queue until it is empty."""
        try:
            while not self._outbox.empty():
                frame = self._outbox.get_nowait()
                try:
                    if not self._closed:
                        await self.transport.send(self._render(frame))
                except Exception:
                    self._gone()
                finally:
                    self._outbox.task_done()
        finally:
            self._writing = False
            self._writer = None

    def _gone(self) -> None:
        """A write failed: the connection is gone, and the adapter notices and calls close()."""
        logger.debug("connection %s went away while being written to", self.websocket_id, exc_info=True)
        self._closed = True

    async def _close_slow_consumer(self) -> None:
        try:
            await self.transport.close(
                SLOW_CONSUMER_CLOSE_CODE, "outbound queue full: the client is not reading"
            )
        except Exception:
            logger.debug("connection %s was already closing", self.websocket_id, exc_info=True)
        await self.close()

    async def _work(self, first: str | bytes | None) -> None:
        """Handle ``first`` (handed over directly), then frames from the queue until it is empty."""
        try:
            while first is not None or not self._pending.empty():
                frame = first if first is not None else self._pending.get_nowait()
                first = None
                try:
                    if not self._closed:
                        await self._handle(frame)
                finally:
                    self._pending.task_done()
        finally:
            self._active -= 1

    async def _handle(self, frame: str | bytes) -> None:
        req_id: UUID | None = None
        try:
            if _exceeds(frame, self.settings.max_message_size):
                raise MessageTooLarge(f"The message is larger than {self.settings.max_message_size} bytes.")
            data = decode_object(frame)
            try:
                message = validate_envelope(data)
            except InvalidMessage:
                # Answer the request even so, when its req_id is readable.
                req_id = read_req_id(data)
                raise
            req_id = message.req_id
            try:
                action_class = ActionRegistryMeta.registry[message.action]
            except ActionDoesNotExist:
                raise UnknownAction(
                    f"No action is registered under the name {quoted(message.action)}."
                ) from None
        except WebSocketProblem as problem:
            logger.debug("rejected a frame on connection %s: %s", self.websocket_id, problem.code)
            await self._send_problem(problem, req_id)
            return
        await run_action(action_class, message, self.context, emit=self._emit, answer=self._send_problem)

    async def _emit(self, event: EventPluginProtocol) -> None:
        try:
            await route(event, self.delivery, own_id=self.context.websocket_id, own=self._queue_out)
        except DeliveryUnavailable as problem:
            # The action goes on: only the hand-over of this event failed, and the engine recovers.
            logger.error(
                "event %r of action request %s could not be handed over for delivery",
                event.event_name,
                event.req_id,
            )
            await self._send_problem(problem, event.req_id)

    async def _send_problem(self, problem: WebSocketProblem, req_id: UUID | None) -> None:
        if self._closed:
            return
        base_url = self.settings.problem_type_base_url
        try:
            frame = encode_problem(problem, req_id=req_id, instance=self.path, problem_type_base_url=base_url)
        except ValueError:
            logger.exception(
                "problem %s has extension members JSON cannot carry (req_id=%s)", problem.code, req_id
            )
            frame = encode_problem(
                InternalError(), req_id=req_id, instance=self.path, problem_type_base_url=base_url
            )
        await self._queue_out(frame)


def _exceeds(frame: str | bytes, limit: int) -> bool:
    """Whether the frame is larger than ``limit`` bytes, counting text as UTF-8."""
    if isinstance(frame, bytes) or len(frame) > limit:
        return len(frame) > limit
    # A character takes at most 4 bytes in UTF-8: only long texts need counting.
    return len(frame) * 4 > limit and len(frame.encode("utf-8", "surrogatepass")) > limit
