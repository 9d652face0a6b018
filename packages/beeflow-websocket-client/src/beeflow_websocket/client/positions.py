"""Where each stream stands for the application, so that a reconnect resumes it without loss or repeat.

Each event of a stream that keeps a history carries its place, ``{"name", "epoch", "offset"}``
(see the server's resume guide). The client keeps the last one it handed to the application per
stream, drops an event at or before it (a replay of what arrived live), and, while a resume runs,
holds every positioned event back: the server writes what arrived live on the new connection
first and the older missed events after it, so only at the resume's end can each stream be put in
offset order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

__all__ = ["LostStream", "Position", "Positions", "position_of"]


@dataclass(frozen=True, slots=True)
class Position:
    """A place in a stream: ``offset`` within ``epoch`` (an epoch changes when the history is lost)."""

    name: str
    epoch: str
    offset: int

    def wire(self) -> dict[str, Any]:
        """The position as ``beeflow.resume`` names it."""
        return {"name": self.name, "epoch": self.epoch, "offset": self.offset}


@dataclass(frozen=True, slots=True)
class LostStream(Position):
    """A stream a resume could not recover: reload what it shows, then go on from this position.

    Attributes:
        reason: ``epoch_changed``, ``expired``, ``ahead``, ``kicked``, ``not_a_member`` or
            ``no_history`` (see the server's resume guide).
    """

    reason: str = ""


def position_of(value: object) -> Position | None:
    """A frame's ``stream`` member as a position, or ``None`` when it has none (or a malformed one)."""
    if not isinstance(value, Mapping):
        return None
    name, epoch, offset = value.get("name"), value.get("epoch"), value.get("offset")
    if not isinstance(name, str) or not isinstance(epoch, str) or type(offset) is not int:
        return None
    return Position(name, epoch, offset)


def _after(kept: Position | None, position: Position) -> bool:
    """Whether ``position`` comes after ``kept``: any offset of another epoch does."""
    return kept is None or kept.epoch != position.epoch or position.offset > kept.offset


class _Held[T](NamedTuple):
    """An event held during a resume; ``item`` is ``None`` when it went to a request (its offset counts)."""

    position: Position
    item: T | None


class Positions[T]:
    """The last position handed to the application per stream, and the events held during a resume."""

    def __init__(self) -> None:
        self._kept: dict[str, Position] = {}
        self._held: dict[str, list[_Held[T]]] | None = None

    @property
    def holding(self) -> bool:
        """Whether positioned events are held (a resume is under way)."""
        return self._held is not None

    def snapshot(self) -> dict[str, Position]:
        """Every kept position, by stream name (a copy)."""
        return dict(self._kept)

    def resumable(self) -> list[Position]:
        """The positions a resume can name: a stream listed without an epoch has none to resume from."""
        return [position for position in self._kept.values() if position.epoch]

    def judge(self, position: Position, item: T) -> Literal["deliver", "duplicate", "held"]:
        """What becomes of an event at ``position`` for the listeners; a delivered one moves the stream on."""
        if self._held is not None:
            self._hold(position, item)
            return "held"
        return "deliver" if self._advance(position) else "duplicate"

    def passed(self, position: Position) -> None:
        """An event at ``position`` went to one of the client's own requests: a replay of it is dropped.

        During a resume the offset counts only once the missed events before it are released: moving
        the stream on now would make them look like repeats.
        """
        if self._held is not None:
            self._hold(position, None)
        else:
            self._advance(position)

    def set(self, position: Position) -> None:
        """Go on from ``position`` (a stream to reload), whatever came before."""
        self._kept[position.name] = Position(position.name, position.epoch, position.offset)

    def hold(self) -> None:
        """Hold positioned events from now until :meth:`release`."""
        if self._held is None:
            self._held = {}

    def release(self) -> list[T]:
        """Stop holding: the held events to deliver, each stream in offset order, without repeats.

        Streams come in the order of their first held event; within one, the epochs in the order they
        came, then the offsets. An event at or before its stream's kept position (delivered live,
        replayed twice, passed to a request, or covered by a reload) is dropped.
        """
        held, self._held = self._held or {}, None
        released = []
        for entries in held.values():
            epochs: dict[str, int] = {}
            for entry in entries:
                epochs.setdefault(entry.position.epoch, len(epochs))
            # A request's own copy first on a tie: the same offset replayed for the listeners repeats it.
            entries.sort(key=lambda e: (epochs[e.position.epoch], e.position.offset, e.item is not None))
            for position, item in entries:
                if self._advance(position) and item is not None:
                    released.append(item)
        return released

    def lost(self, streams: Iterable[object]) -> list[LostStream]:
        """Read the ``streams`` of ``unrecoverable_position`` and go on from each one's position."""
        found = []
        for entry in streams:
            position = position_of(entry)
            if position is None:
                continue
            reason = entry.get("reason") if isinstance(entry, Mapping) else None
            lost = LostStream(position.name, position.epoch, position.offset, str(reason or ""))
            self.set(lost)
            found.append(lost)
        return found

    def _hold(self, position: Position, item: T | None) -> None:
        assert self._held is not None  # noqa: S101 - called while holding only
        self._held.setdefault(position.name, []).append(_Held(position, item))

    def _advance(self, position: Position) -> bool:
        """Move the stream on to ``position`` if it comes after where it is; whether it did."""
        if not _after(self._kept.get(position.name), position):
            return False
        self._kept[position.name] = position
        return True
