"""What a read of a stream's history gives: every event after a position, or why not. Pure."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, Literal, NamedTuple

from pydantic_core import to_json

from beeflow_websocket.core.transport import OutboundEvent

if TYPE_CHECKING:
    from pydantic import JsonValue

__all__ = [
    "KICK_MARK",
    "RESUMED_EVENT",
    "Replay",
    "Unrecoverable",
    "lost_stream",
    "replay_of",
    "resumed_event",
]

RESUMED_EVENT: Final = "beeflow.resumed"
"""v1: a stream of a ``beeflow.resume`` was recovered whole; its payload is the stream's position now."""

KICK_MARK: Final = ""
"""The body of the entry a kick leaves in its user's stream (no event has an empty body): a resume
from a position before it is refused, so a session the application ended cannot be picked up again."""

type Unrecoverable = Literal["epoch_changed", "expired", "ahead", "kicked", "not_a_member", "no_history"]
"""Why a position cannot be resumed from: the history was lost since (``epoch_changed``); events
after it are no longer kept (``expired``); it names an offset the stream never reached (``ahead``);
the user was disconnected by the application since (``kicked``);
the connection is not in the stream (``not_a_member``); the stream keeps no history (``no_history``)."""


class Replay(NamedTuple):
    """The answer to one stream's resume.

    Attributes:
        stream: The stream.
        epoch: Its epoch now (``""`` when it has no history).
        top: Its last offset now.
        events: Every event after the asked position, in offset order; empty when ``reason`` is set.
        reason: Why the position cannot be resumed from, or ``None`` when it can.
    """

    stream: str
    epoch: str
    top: int
    events: list[OutboundEvent]
    reason: Unrecoverable | None = None


def replay_of(
    stream: str, epoch: str, after: int, *, current: str | None, top: int, events: list[OutboundEvent]
) -> Replay:
    """Judge what a store read: whole (every offset from ``after + 1`` to ``top``), or unrecoverable.

    ``events`` are the kept events after ``after`` in offset order; ``current`` is the stream's epoch
    now (``None``: it has none). Never partial: one missing offset makes the whole stream unrecoverable.
    """
    if current is None or current != epoch:
        return Replay(stream, current or "", top, [], "epoch_changed")
    if after > top:
        return Replay(stream, current, top, [], "ahead")
    wanted = top - after
    if len(events) != wanted or (wanted and events[0].position.offset != after + 1):  # type: ignore[union-attr]
        return Replay(stream, current, top, [], "expired")
    if any(event.body == KICK_MARK for event in events):
        return Replay(stream, current, top, [], "kicked")
    return Replay(stream, current, top, events)


def resumed_event(websocket_id: str, req_id: str, replay: Replay, replayed: int) -> OutboundEvent:
    """The ``beeflow.resumed`` event of one recovered stream, answering the resume ``req_id``."""
    payload = to_json(
        {"stream": replay.stream, "epoch": replay.epoch, "offset": replay.top, "replayed": replayed}
    ).decode()
    body = (
        f'{{"event":"{RESUMED_EVENT}","recipient":"websocket",'
        f'"recipient_id":{to_json(websocket_id).decode()},"payload":{payload}}}'
    )
    return OutboundEvent(req_id, body)


def lost_stream(stream: str, epoch: str, top: int, reason: Unrecoverable) -> JsonValue:
    """One stream of the ``unrecoverable_position`` problem: where it is now, and why it was not resumed."""
    return {"name": stream, "epoch": epoch, "offset": top, "reason": reason}
