"""The record of the requests a deployment has started, by user and ``msg_id``, for a short window.

Each entry holds what became of one request: ``running`` from the moment its action starts, then
``completed``, ``failed`` (it ended with a problem: an error, a cancel, a time limit) or
``interrupted`` (its connection went while it ran). An entry lives ``window`` seconds from its last
change, so a request that ran longer than the window can run again when retried after it ended.
A request that never started (it waited for a slot when its connection went) has no entry: run
when retried, it runs once.
"""

from __future__ import annotations

import heapq
import time
from typing import Final, Literal, Protocol

__all__ = ["MemoryLedger", "Outcome", "RequestLedger", "ledger_of"]

type Outcome = Literal["running", "completed", "failed", "interrupted"]
"""What became of a request the ledger has recorded."""

OUTCOMES: Final[tuple[Outcome, ...]] = ("running", "completed", "failed", "interrupted")

_CLOCK: Final = time.monotonic


class RequestLedger(Protocol):
    """Where an engine records the requests of its users (its ``ledger`` attribute)."""

    async def begin(self, owner: str, msg_id: str, window: float) -> Outcome | None:
        """Record that ``owner``'s request ``msg_id`` starts; ``None`` when it may, else its earlier outcome.

        Checking and recording are one step: of two requests with one ``msg_id``, only one begins.

        Raises:
            DeliveryUnavailable: The record cannot be read or written now.
        """
        ...

    async def settle(self, owner: str, msg_ids: list[str], outcome: Outcome, window: float) -> None:
        """Record how requests that began have ended; the window starts again from now.

        Raises:
            DeliveryUnavailable: The record cannot be written now.
        """
        ...


class MemoryLedger:
    """The record in this process's memory: for a deployment of one process.

    About 350 bytes per request recorded within the window (a dict entry, its key and heap items;
    measured over 10,000 requests begun and settled);
    expired entries are dropped as new ones are recorded.
    """

    __slots__ = ("_entries", "_expiries")

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], tuple[Outcome, float]] = {}
        self._expiries: list[tuple[float, tuple[str, str]]] = []

    def __len__(self) -> int:
        return len(self._entries)

    async def begin(self, owner: str, msg_id: str, window: float) -> Outcome | None:
        """See :meth:`RequestLedger.begin`."""
        now = _CLOCK()
        self._expire(now)
        key = (owner, msg_id)
        entry = self._entries.get(key)
        if entry is not None:
            return entry[0]
        self._keep(key, "running", now + window)
        return None

    async def settle(self, owner: str, msg_ids: list[str], outcome: Outcome, window: float) -> None:
        """See :meth:`RequestLedger.settle`."""
        until = _CLOCK() + window
        for msg_id in msg_ids:
            key = (owner, msg_id)
            if key in self._entries:
                self._keep(key, outcome, until)

    def _keep(self, key: tuple[str, str], outcome: Outcome, until: float) -> None:
        self._entries[key] = (outcome, until)
        heapq.heappush(self._expiries, (until, key))

    def _expire(self, now: float) -> None:
        expiries = self._expiries
        while expiries and expiries[0][0] <= now:
            until, key = heapq.heappop(expiries)
            entry = self._entries.get(key)
            if entry is not None and entry[1] == until:  # else it changed since, and expires later
                del self._entries[key]


_PROCESS_LEDGER: Final = MemoryLedger()
"""The record for an engine without one of its own: exact for one process."""


def ledger_of(delivery: object) -> RequestLedger:
    """The record ``delivery`` shares between processes, or this process's."""
    ledger: RequestLedger | None = getattr(delivery, "ledger", None)
    return ledger if ledger is not None else _PROCESS_LEDGER
