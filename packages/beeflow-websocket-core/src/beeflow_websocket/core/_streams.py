"""The streams one v1 connection follows: each event once and in order, gaps filled, resumes answered.

Composed into the dispatcher of a v1 connection when its engine keeps stream histories. Events of a
stream pass the connection's :class:`~beeflow_websocket.core.history.cursor.StreamCursor` before
its outbox: duplicates are dropped, and an event after a gap is held while the gap is filled from the
history, so the client sees each stream's offsets in order. A gap that cannot be filled (its events
are no longer kept, or the stream's history was lost) cannot be hidden: the connection is closed with
:data:`RESYNC_CLOSE_CODE`, and the client resumes, learning which streams it must reload.

A gap opens when an event on its way is overtaken (the asker's own copy goes first; two appends in
one process finish in either order; Django's channel layer publishes after the append), so a gap is
first given :data:`GAP_WAIT` to close by itself: usually it does, and the history is not read.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from beeflow_websocket.core.history.cursor import Admission, StreamCursor
from beeflow_websocket.core.history.positions import StreamPosition
from beeflow_websocket.core.history.replay import KICK_MARK
from beeflow_websocket.core.problems import DeliveryUnavailable

if TYPE_CHECKING:
    from beeflow_websocket.core._outbox import Outbox
    from beeflow_websocket.core.history.replay import Replay
    from beeflow_websocket.core.history.store import History
    from beeflow_websocket.core.transport import OutboundEvent

__all__ = ["GAP_WAIT", "RESYNC_CLOSE_CODE", "RESYNC_REASON", "ConnectionStreams"]

logger: Final = logging.getLogger("beeflow_websocket.core.dispatcher")

RESYNC_CLOSE_CODE: Final = 4410
"""Close code of a connection that missed events it can no longer be sent (4000 + HTTP 410, gone).

Clients reconnect and send ``beeflow.resume``, which names the streams to reload."""

RESYNC_REASON: Final = "missed stream events: resume"

GAP_WAIT: Final = 0.05
"""Seconds a gap in a stream is given to close by itself before the history is read to fill it."""


class ConnectionStreams:
    """The streams of one connection, between the engine and its outbox.

    Args:
        history: Where the streams keep their events.
        outbox: The connection's outbox.
        websocket_id: The connection's id: events that skip it are not written to it.
        on_lost: Called when the connection missed events it can no longer be sent.
    """

    __slots__ = ("_cursor", "_fills", "_history", "_on_lost", "_outbox", "_websocket_id")

    def __init__(
        self, history: History, outbox: Outbox, *, websocket_id: str, on_lost: Callable[[], None]
    ) -> None:
        self._history = history
        self._outbox = outbox
        self._websocket_id = websocket_id
        self._on_lost = on_lost
        self._cursor = StreamCursor()
        self._fills: dict[str, asyncio.Task[None]] = {}

    def keeps(self, stream: str) -> bool:
        """Whether ``stream`` keeps a history."""
        return self._history.policy.keeps(stream)

    def admit(self, event: OutboundEvent, position: StreamPosition) -> bool:
        """Whether to write an event from elsewhere now; if not, it was dropped or is held here."""
        verdict = self._cursor.admit(event, position)
        if verdict is Admission.WRITE:
            return True
        self._act(position.stream, verdict)
        return False

    def passed(self, position: StreamPosition) -> None:
        """The event at ``position`` is written to the connection another way, or skips it."""
        self._act(position.stream, self._cursor.own(position))

    def forget(self, stream: str) -> None:
        """The connection left ``stream``."""
        self._cursor.forget(stream)
        fill = self._fills.pop(stream, None)
        if fill is not None:
            fill.cancel()

    async def stop(self) -> None:
        """The connection is closing: stop filling gaps."""
        fills = list(self._fills.values())
        self._fills.clear()
        for fill in fills:
            fill.cancel()
        await asyncio.gather(*fills, return_exceptions=True)

    async def resume(self, position: StreamPosition) -> tuple[Replay, list[OutboundEvent]]:
        """Read what ``position``'s stream sent after it: the replay, and the events to write now.

        The stream's live events are held meanwhile; the caller writes the events returned, then
        calls :meth:`release`. Offsets already written live since the connection opened are left out.

        Raises:
            DeliveryUnavailable: The history cannot be read now (the stream is released).
        """
        stream = position.stream
        self._cursor.hold(stream)
        try:
            replay = await self._history.read(stream, position.epoch, position.offset)
        except BaseException:
            self.release(stream)
            raise
        if replay.reason is not None:
            return replay, []
        missing = self._cursor.resumed(stream, replay.epoch, position.offset, replay.top)
        if missing is None:
            return replay._replace(events=[], reason="epoch_changed"), []
        wanted = set(missing)
        events = [
            event
            for event in replay.events
            if event.position is not None
            and event.position.offset in wanted
            and event.skip != self._websocket_id
        ]
        return replay, events

    def release(self, stream: str) -> None:
        """Stop holding ``stream``: write what it held, in order (see :meth:`StreamCursor.release`)."""
        for event, verdict in self._cursor.release(stream):
            if verdict is Admission.WRITE:
                self._outbox.post(event)
            elif verdict is not Admission.DUPLICATE:
                self._act(stream, verdict)

    def recheck(self) -> None:
        """Read each followed stream's history after its last offset: events may have gone unheard.

        For the moments delivery could not be trusted (the process's Redis subscription was lost and
        is back): what the streams kept meanwhile is written now, in order, or the connection is
        closed with 4410 when it is gone.
        """
        for stream in self._cursor.streams():
            self._act(stream, Admission.GAP, always=True)

    def _act(self, stream: str, verdict: Admission, *, always: bool = False) -> None:
        if verdict is Admission.GAP:
            if stream not in self._fills:
                fill = self._fill(stream, always=always)
                self._fills[stream] = asyncio.get_running_loop().create_task(fill)
        elif verdict is Admission.LOST:
            self._lost(stream, "its history was lost")

    async def _fill(self, stream: str, *, always: bool = False) -> None:
        """Fill the gap in ``stream`` from the history, once the events on their way had time to arrive.

        ``always``: read the history even without a known gap (:meth:`recheck`).
        """
        try:
            await asyncio.sleep(GAP_WAIT)
            track = self._cursor.track(stream)
            if track is None or track.epoch is None:
                return
            if not always and track.held is None and not track.ahead:
                return  # closed by itself
            self._cursor.hold(stream)
            epoch = track.epoch
            try:
                replay = await self._history.read(stream, epoch, track.last)
            except DeliveryUnavailable:
                self._lost(stream, "its history cannot be read")
                return
            if replay.reason is not None:
                self._lost(stream, f"the events it missed are gone ({replay.reason})")
                return
            for event in replay.events:
                position = event.position
                if (
                    position is not None
                    and self._cursor.replayed(stream, epoch, position.offset)
                    and event.skip != self._websocket_id
                    and event.body != KICK_MARK
                ):
                    self._outbox.post(event)
        finally:
            if self._fills.get(stream) is asyncio.current_task():
                del self._fills[stream]
        self.release(stream)

    def _lost(self, stream: str, why: str) -> None:
        logger.warning(
            "connection %s missed events of stream %s and %s; closing it so that its client resumes",
            self._websocket_id,
            stream,
            why,
        )
        self._on_lost()
