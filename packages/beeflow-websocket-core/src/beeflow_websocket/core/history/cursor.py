"""What one connection has been written of each stream: every event once, in offset order. Pure.

Events of one stream can reach a connection out of order or twice: the asker's own copy is written
ahead of others' events still on their way from Redis, two publishers in one process finish their
appends in either order, a Django channel layer publishes after the append rather than with it, and
a resume replays what may have arrived live meanwhile. The :class:`StreamCursor` of a connection
keeps, per stream, the last offset written in an unbroken run and the offsets written ahead of it,
and says for each event whether to write it, drop it (written already), or hold it until the gap
before it is filled from the history.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from beeflow_websocket.core.history.positions import StreamPosition
    from beeflow_websocket.core.transport import OutboundEvent

__all__ = ["Admission", "StreamCursor", "Track"]


class Admission(enum.Enum):
    """What to do with an event of a stream."""

    WRITE = "write"
    """Write it now."""
    DUPLICATE = "duplicate"
    """Drop it: this connection has been written it."""
    HELD = "held"
    """Held: the stream waits for a gap to be filled or a resume to end (see :meth:`StreamCursor.release`)."""
    GAP = "gap"
    """Held, and events before it are missing: fill the gap from the history."""
    LOST = "lost"
    """The stream's history was lost (its epoch changed): this connection cannot be brought up to date."""


_WRITE: Final = Admission.WRITE
_NOTHING: Final = 1 << 62


class Track:
    """One stream as one connection has seen it.

    Attributes:
        epoch: The stream's epoch; ``None`` until the first event or a resume says it.
        first: The first offset of the unbroken run written to the connection.
        last: The last offset of that run; 0 before any.
        ahead: Offsets written after a gap (the connection's own copies that went first).
        held: Events waiting, in arrival order, while a gap is filled or a resume runs; else ``None``.
    """

    __slots__ = ("ahead", "epoch", "first", "held", "last")

    def __init__(self, epoch: str | None) -> None:
        self.epoch = epoch
        self.first = _NOTHING  # nothing written yet: no run
        self.last = 0
        self.ahead: set[int] = set()
        self.held: list[OutboundEvent] | None = None

    def advance(self, offset: int) -> None:
        """``offset`` follows the run: extend it, and through the offsets written ahead that now join it."""
        self.last = offset
        ahead = self.ahead
        while ahead and self.last + 1 in ahead:
            self.last += 1
            ahead.discard(self.last)

    def follow(self, position: StreamPosition) -> Admission | None:
        """``WRITE``: ``position`` extends the run, or starts it; ``LOST``: another epoch; else ``None``."""
        if self.epoch is None:
            self.epoch = position.epoch
        elif self.epoch != position.epoch:
            return Admission.LOST
        offset = position.offset
        if self.first > self.last:  # nothing written yet: the run starts here
            self.first = offset
            self.advance(offset)
            return _WRITE
        if offset == self.last + 1:
            self.advance(offset)
            return _WRITE
        return None

    def hold_more(self, events: list[OutboundEvent]) -> None:
        """Hold ``events`` too, behind those held already."""
        if self.held is None:
            self.held = []
        self.held.extend(events)

    def written(self, offset: int) -> bool:
        """Whether this connection has been written ``offset``."""
        return self.first <= offset <= self.last or offset in self.ahead


class StreamCursor:
    """The streams of one connection, by name."""

    __slots__ = ("_tracks",)

    def __init__(self) -> None:
        self._tracks: dict[str, Track] = {}

    def streams(self) -> list[str]:
        """The streams followed, by name."""
        return list(self._tracks)

    def track(self, stream: str) -> Track | None:
        """How the connection has seen ``stream``, if at all."""
        return self._tracks.get(stream)

    def admit(self, event: OutboundEvent, position: StreamPosition) -> Admission:
        """Decide about an event from elsewhere at ``position``; a held one is kept here."""
        track = self._tracks.get(position.stream)
        if track is None:
            track = self._tracks[position.stream] = Track(position.epoch)
        if track.held is not None:
            track.held.append(event)
            return Admission.HELD
        return self._place(track, event, position)

    def own(self, position: StreamPosition) -> Admission:
        """The connection's own copy at ``position`` is written now, whatever came before it.

        A request's own events go out in the order the action yielded them, ahead of others' events
        that may still be on their way; ``GAP`` says some are, so that the gap is looked at later.
        """
        track = self._tracks.get(position.stream)
        if track is None:
            track = self._tracks[position.stream] = Track(position.epoch)
        followed = track.follow(position)
        if followed is not None:
            return followed
        if position.offset > track.last:
            track.ahead.add(position.offset)
            return Admission.GAP
        return _WRITE

    def hold(self, stream: str) -> Track:
        """Hold the stream's events from now on (a resume or a gap fill begins); its track."""
        track = self._tracks.get(stream)
        if track is None:
            track = self._tracks[stream] = Track(None)
        if track.held is None:
            track.held = []
        return track

    def release(self, stream: str) -> list[tuple[OutboundEvent, Admission]]:
        """Stop holding the stream: each held event with what to do with it, in order.

        An event after a gap that is still open starts holding again (``GAP``), with every event
        behind it.
        """
        track = self._tracks.get(stream)
        if track is None or track.held is None:
            return []
        held, track.held = track.held, None
        decided: list[tuple[OutboundEvent, Admission]] = []
        for index, event in enumerate(held):
            position = event.position
            assert position is not None  # noqa: S101 - only positioned events are held
            verdict = self._place(track, event, position)
            decided.append((event, verdict))
            if verdict is Admission.GAP:
                track.hold_more(held[index + 1 :])
                break
        return decided

    def replayed(self, stream: str, epoch: str, offset: int) -> bool:
        """An event read from the history at ``offset`` to fill a gap: whether to write it.

        Every entry after the run is read in order, so the run grows through each one written.
        """
        track = self._tracks.get(stream)
        if track is None or track.epoch != epoch or track.written(offset) or offset <= track.last:
            return False
        track.advance(offset)
        return True

    def resumed(self, stream: str, epoch: str, after: int, top: int) -> list[int] | None:
        """A resume read the history of ``stream`` after ``after`` up to ``top``: the offsets to write.

        Those already written live since the connection opened are left out; the rest are written
        after them, so the client puts what a resume brings in offset order (see the resume guide).
        ``None``: events written live belong to another epoch; the client cannot be brought up to date.
        """
        track = self.hold(stream)
        if track.epoch is not None and track.epoch != epoch:
            return None
        track.epoch = epoch
        missing = [offset for offset in range(after + 1, top + 1) if not track.written(offset)]
        track.first = min(track.first, after + 1)
        track.advance(max(track.last, top))
        track.ahead = {offset for offset in track.ahead if offset > track.last}
        return missing

    def forget(self, stream: str) -> None:
        """Stop following ``stream`` (the connection left it): a later join starts afresh."""
        self._tracks.pop(stream, None)

    def _place(self, track: Track, event: OutboundEvent, position: StreamPosition) -> Admission:
        followed = track.follow(position)
        if followed is not None:
            return followed
        offset = position.offset
        if offset <= track.last or offset in track.ahead:
            return Admission.DUPLICATE
        track.held = [event]
        return Admission.GAP
