"""Where an event stands in the history of its stream, and which streams keep one. Pure.

A stream is what an event is sent to once for many connections: a user's connections (the group
``~user:<id>``) or an application group. A stream that keeps a history numbers its events with a
gapless ``offset`` from 1 within an ``epoch``; the epoch changes whenever the history is lost (it
expired, or Redis lost it), so that a position from before the loss can never be mistaken for one
after it. One history per stream, not per connection: a group of 10,000 costs one append per event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, Literal, NamedTuple

from pydantic_core import to_json

from beeflow_websocket.core.groups import USER_GROUP_PREFIX

__all__ = [
    "DEFAULT_HISTORY_STREAMS",
    "DEFAULT_HISTORY_TTL",
    "HistoryPolicy",
    "StreamKind",
    "StreamPosition",
    "position_field",
    "stream_kind",
]

type StreamKind = Literal["user", "group"]
"""A user's stream (``~user:<id>``) or an application group's."""

DEFAULT_HISTORY_TTL: Final = 300.0
"""Five minutes: a client away for longer reloads what it shows rather than replaying it."""

DEFAULT_HISTORY_STREAMS: Final[tuple[StreamKind, ...]] = ("user", "group")

META_TTL: Final = 86_400.0
"""Seconds a stream's epoch and top offset outlive its last event (a day). A client that missed
nothing resumes however long ago its history expired; one that missed events is told so."""


class StreamPosition(NamedTuple):
    """An event's place in its stream: ``offset`` within ``epoch``."""

    stream: str
    epoch: str
    offset: int


def position_field(position: StreamPosition) -> str:
    """The ``"stream":{...}`` member a v1 event frame carries (without a separating comma)."""
    return (
        f'"stream":{{"name":{to_json(position.stream).decode()},'
        f'"epoch":"{position.epoch}","offset":{position.offset}}}'
    )


def stream_kind(stream: str) -> StreamKind:
    """Whether ``stream`` is a user's or an application group's."""
    return "user" if stream.startswith(USER_GROUP_PREFIX) else "group"


@dataclass(frozen=True, slots=True)
class HistoryPolicy:
    """Which streams keep a history, and how much of it.

    Attributes:
        size: Events kept per stream; 0 keeps none (history is off).
        ttl: Seconds an event is kept after the stream's last event.
        streams: The kinds of stream that keep one.
    """

    size: int = 0
    ttl: float = DEFAULT_HISTORY_TTL
    streams: frozenset[StreamKind] = field(default_factory=lambda: frozenset(DEFAULT_HISTORY_STREAMS))

    def keeps(self, stream: str) -> bool:
        """Whether events sent to ``stream`` are numbered and kept."""
        return self.size > 0 and stream_kind(stream) in self.streams
