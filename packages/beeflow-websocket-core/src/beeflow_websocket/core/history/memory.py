"""The history of one process's streams, in its memory: for an application without Redis.

Each stream that keeps a history holds its last ``size`` events in a ring, with the time each was
appended; older than ``ttl``, they are dropped. A stream's epoch and top offset outlive its events
by the meta lifetime (a day), so that a client that missed nothing can still resume; a stream with
no event for that long is forgotten. Each kept event holds a reference to the text every receiver
shares, and a tuple and a position of its own.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Final
from uuid import uuid4

from beeflow_websocket.core.history.positions import META_TTL, HistoryPolicy, StreamPosition
from beeflow_websocket.core.history.replay import KICK_MARK, Replay, replay_of
from beeflow_websocket.core.transport import OutboundEvent

__all__ = ["MemoryHistory"]

_CLOCK: Final = time.monotonic
_SWEEP_EVERY: Final = 4096


@dataclass(slots=True)
class _Stream:
    epoch: str
    top: int = 0
    touched: float = 0.0
    events: deque[tuple[float, OutboundEvent]] = field(default_factory=deque)


class MemoryHistory:
    """The streams of this process that keep a history, by name.

    Args:
        policy: Which streams keep one, how many events and for how long.
    """

    def __init__(self, policy: HistoryPolicy) -> None:
        self.policy = policy
        self._streams: dict[str, _Stream] = {}
        self._appends = 0

    def __len__(self) -> int:
        return len(self._streams)

    async def append(self, stream: str, event: OutboundEvent) -> OutboundEvent:
        """Number ``event`` in ``stream`` and keep it; the event with its position (see :meth:`keep`)."""
        return self.keep(stream, event)

    def keep(self, stream: str, event: OutboundEvent) -> OutboundEvent:
        """:meth:`append` for a caller on this process's loop that need not wait: nothing is awaited."""
        now = _CLOCK()
        self._appends += 1
        if not self._appends % _SWEEP_EVERY:
            self._sweep(now)
        kept = self._streams.get(stream)
        if kept is None or now - kept.touched > META_TTL:
            kept = self._streams[stream] = _Stream(uuid4().hex[:12])
        kept.top += 1
        kept.touched = now
        positioned = OutboundEvent(
            event.req_id, event.body, event.skip, StreamPosition(stream, kept.epoch, kept.top)
        )
        events = kept.events
        events.append((now, positioned))
        oldest = now - self.policy.ttl
        while len(events) > self.policy.size or events[0][0] < oldest:
            events.popleft()
        return positioned

    async def mark(self, stream: str) -> None:
        """Leave a kick's mark in ``stream`` (see ``replay.KICK_MARK``)."""
        self.keep(stream, OutboundEvent(None, KICK_MARK))

    def _sweep(self, now: float) -> None:
        """Forget the streams that have had no event for the meta lifetime."""
        for name in [name for name, kept in self._streams.items() if now - kept.touched > META_TTL]:
            del self._streams[name]

    async def read(self, stream: str, epoch: str, after: int) -> Replay:
        """The events of ``stream`` after offset ``after`` of ``epoch``, or why they cannot be had."""
        kept = self._streams.get(stream)
        if kept is None:
            return replay_of(stream, epoch, after, current=None, top=0, events=[])
        oldest = _CLOCK() - self.policy.ttl
        events = [event for at, event in kept.events if at >= oldest and event.position.offset > after]  # type: ignore[union-attr]
        return replay_of(stream, epoch, after, current=kept.epoch, top=kept.top, events=events)
