"""What waits to be written to one connection, who writes it, and when its client counts as gone.

Every frame goes through one :class:`Outbox` and is written by one writer at a time, so frames
never interleave and ``seq`` follows the order of writing. There are three ways in, each measured:

- :meth:`Outbox.send` for the connection's own answers: written in the caller's task when nothing
  is queued and nobody writes (the usual single answer, no task started), else queued, waiting for
  room: only the connection's own worker waits there, so a slow client slows only itself;
- :meth:`Outbox.hold` for a v1 request's own events, which can be marked ``final`` only once it is
  known whether the action has ended: queued unwritten, and written as soon as the action waits
  (a callback of the event loop) or by :meth:`Outbox.finish` once it has ended, whichever is first;
- :meth:`Outbox.offer` for an event from elsewhere when there is room now (a sender with many
  receivers offers to all, then waits only for the full ones, together);
- :meth:`Outbox.deliver` for an event from elsewhere that waits for room, up to the slow-consumer
  policy: a client to which nothing at all could be written for ``slow_consumer_timeout`` has
  stopped reading, and the outbox reports it stalled. Progress, not a full queue at one instant,
  tells a stalled client from a slow one;
- :meth:`Outbox.post` for an event whose sender must never wait (the listener that feeds a whole
  process from Redis): what finds no room waits in line, in order, and one task of this connection
  delivers it as above. A line holds references to events every receiver shares, so a slow reader
  that keeps reading costs a few bytes an event, and a stalled one is closed within the timeout.

A writer task is started only when frames are queued, eagerly, and ends when the queue is empty.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Final

from beeflow_websocket.core._buffer import FrameBuffer
from beeflow_websocket.core._tasks import start_eagerly
from beeflow_websocket.core.protocol import OwnEvent

if TYPE_CHECKING:
    from beeflow_websocket.core.protocol import ConnectionProtocol, Outgoing, Reply
    from beeflow_websocket.core.transport import OutboundEvent, Transport

__all__ = ["Outbox"]

logger: Final = logging.getLogger("beeflow_websocket.core.dispatcher")


class Outbox:
    """The outbound queue of one connection and its one writer.

    Args:
        transport: Writes frames to the connection.
        protocol: Numbers each frame as it is written, and says whether the connection is open.
        limit: How many frames may wait to be written.
        stall_timeout: Seconds without progress after which a waiting event counts its client gone.
        on_stalled: Called once the client has stopped reading; the connection must be closed.
        connection_id: Names the connection in log records.
    """

    __slots__ = (
        "_connection_id",
        "_frames",
        "_held",
        "_limit",
        "_line",
        "_line_task",
        "_on_stalled",
        "_protocol",
        "_soon",
        "_stall_timeout",
        "_transport",
        "_writer",
        "_writing",
        "eager",
    )

    def __init__(
        self,
        transport: Transport,
        protocol: ConnectionProtocol,
        *,
        limit: int,
        stall_timeout: float,
        on_stalled: Callable[[], None],
        connection_id: str,
    ) -> None:
        self._connection_id = connection_id
        self._limit = limit
        self._transport = transport
        self._protocol = protocol
        self._stall_timeout = stall_timeout
        self._on_stalled = on_stalled
        # Events wait unnumbered; the protocol numbers each as it is written.
        self._frames: FrameBuffer[Outgoing] = FrameBuffer(limit)
        self._writer: asyncio.Task[None] | None = None
        self._writing = False
        self._soon = False  # a callback that starts the writer is scheduled
        # A v1 frame held when nothing else waited: the oldest unwritten frame, outside the buffer
        # (counted by its join), which spares the usual one-event answer the buffer's bookkeeping.
        self._held: tuple[OutboundEvent, Reply] | None = None
        # Set while a request's task takes its eager first step in the caller (see eager_step_over).
        self.eager = False
        self._line: deque[OutboundEvent] | None = None
        self._line_task: asyncio.Task[None] | None = None

    async def send(self, frame: Outgoing) -> None:
        """Write a frame of the connection's own; it waits for room, never counting as stalled."""
        if not self._protocol.open:
            return
        if not self._writing and self._held is None and self._frames.empty():
            # Nothing queued and nobody writing: write it here, without queueing it.
            self._writing = True
            try:
                await self._transport.send(self._protocol.frame(frame))
            except Exception:
                self._gone()
            finally:
                self._writing = False
            self._write_soon()  # what arrived from elsewhere meanwhile
            return
        if self._frames.full():
            await self._frames.put(frame)
        else:
            self._frames.put_nowait(frame)
        if not self._writing:
            self._writing = True
            await self._write_frames()

    def hold(self, reply: Reply, event: OutboundEvent) -> Awaitable[None] | None:
        """Queue a v1 request's own event unwritten: it goes once the caller waits, or on :meth:`finish`.

        The protocol counts it as one of ``reply``'s, to mark the request's terminal frame when written.
        A plain function: only when the queue is full is there something to await (room), returned.
        """
        if not self._protocol.open:
            return None
        reply.queued += 1  # what ConnectionProtocol.own does, inline: a call less per event
        if self._held is None and not self._writing and self._frames.empty():
            # Held outside the buffer, counted by its join: the usual one-event answer needs no
            # queue, nor an OwnEvent (a named tuple is built in Python code; a tuple is not).
            self._held = (event, reply)
            self._frames.track()
        elif self._frames.full():
            return self._put_own(OwnEvent(event, reply))
        else:
            self._frames.put_nowait(OwnEvent(event, reply))
        if not self.eager:
            self._later()
        return None

    async def _put_own(self, frame: OwnEvent) -> None:
        self._later()  # room comes from the writer
        await self._frames.put(frame)
        self._later()

    def eager_step_over(self) -> None:
        """The eager first step of a request's task has returned: write what it left held.

        While the task runs in its caller (:attr:`eager`), a held frame needs no loop callback to
        go out when the action waits: the caller writes it here, once the step returns. Sparing
        that callback is 4,000 instructions of a v1 health round trip on uvicorn (of 22,000 that
        protocol v1 added).
        """
        self.eager = False
        if self._held is not None:
            self._write_soon()

    async def finish(self, reply: Reply) -> None:
        """v1: the request's action ended well; write what is left of it, its terminal frame last.

        Written in the caller's task, unless a writer is at it already.
        """
        held = self._held
        if held is not None and held[1] is reply and not self._writing and self._frames.empty():
            # The usual v1 answer: its one event, held, is its terminal frame, written here. Inline,
            # and ending the request in the same call of the protocol: each call less per request
            # is about 0.5% of a health round trip's instructions (measured in process).
            self._held = None
            self._writing = True
            try:
                if self._protocol.open:
                    await self._transport.send(self._protocol.own_frame(held[0], reply, True))
            except Exception:
                self._gone()
            finally:
                self._writing = False
                self._frames.task_done()
            self._write_soon()  # what arrived from elsewhere meanwhile
            return
        completion = self._protocol.end(reply)
        if completion is not None:
            await self.send(completion)
        elif not self._writing and (self._held is not None or not self._frames.empty()):
            self._writing = True
            await self._write_frames()

    def _later(self) -> None:
        if not self._soon and not self._writing:
            self._soon = True
            asyncio.get_running_loop().call_soon(self._write_later)

    def _write_later(self) -> None:
        self._soon = False
        self._write_soon()

    def offer(self, event: OutboundEvent) -> bool:
        """Queue ``event`` if there is room now; ``False`` if not. Dropped (``True``) once closing."""
        if not self._protocol.open:
            return True
        if self._frames.full() or self._frames.waiting():
            return False  # never ahead of those already waiting for room
        self._frames.put_nowait(event)
        self._write_soon()
        return True

    async def deliver(self, event: OutboundEvent) -> None:
        """Queue ``event``, waiting for room while the client makes progress; report it stalled if not."""
        if self.offer(event):
            return
        while True:
            written = self._protocol.written
            try:
                await asyncio.wait_for(self._frames.put(event), self._stall_timeout)
            except TimeoutError:
                if not self._protocol.open:
                    return
                if self._protocol.written == written:  # nothing written for the whole timeout
                    self._stalled()
                    return
            else:
                break
        self._write_soon()

    def post(self, event: OutboundEvent) -> None:
        """Queue ``event`` without ever waiting; what finds no room waits in line, in order."""
        if self._line is not None:
            self._line.append(event)
        elif not self.offer(event):
            self._line = deque((event,))
            self._line_task = start_eagerly(self._deliver_line(self._line))

    async def _deliver_line(self, line: deque[OutboundEvent]) -> None:
        try:
            while line and self._protocol.open:
                await self.deliver(line.popleft())
        finally:
            self._line = None
            self._line_task = None

    async def join(self) -> None:
        """Wait until every frame queued so far has been written (or dropped)."""
        await self._frames.join()

    async def stop(self) -> None:
        """Stop the writer: the connection is closing and frames still queued are dropped."""
        tasks = [task for task in (self._writer, self._line_task) if task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _write_soon(self) -> None:
        """Start the writer unless it is running; it writes until the queue is empty."""
        if self._writing or (self._held is None and self._frames.empty()):
            return
        self._writing = True
        writer = start_eagerly(self._write_frames())
        if not writer.done():
            self._writer = writer

    async def _write_frames(self) -> None:
        try:
            while self._held is not None or not self._frames.empty():
                held = self._held
                try:
                    if held is not None:
                        self._held = None
                        if self._protocol.open:
                            await self._transport.send(self._protocol.own_frame(*held))
                    else:
                        frame = self._frames.get_nowait()
                        if self._protocol.open:
                            await self._transport.send(self._protocol.frame(frame))
                except Exception:
                    self._gone()
                finally:
                    self._frames.task_done()
        finally:
            self._writing = False
            self._writer = None

    def _stalled(self) -> None:
        logger.warning(
            "closing connection %s: nothing could be written to it for %.1f s while %d frames waited; "
            "its client is not reading",
            self._connection_id,
            self._stall_timeout,
            self._limit,
        )
        self._protocol.closing()
        self._on_stalled()

    def _gone(self) -> None:
        """A write failed: the connection is gone; the adapter notices and closes it."""
        logger.debug("connection %s went away while being written to", self._connection_id, exc_info=True)
        self._protocol.closing()
