"""How long to wait before the next connection attempt: full-jitter exponential backoff.

Every client of a restarted server reconnects at once unless each waits a random time; full jitter
(a delay drawn uniformly from zero to the exponential ceiling) spreads them best for the least
total wait, as AWS's "Exponential Backoff and Jitter" measured. The ceiling doubles per failed
attempt, from ``initial`` up to ``maximum``.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Backoff"]


@dataclass(frozen=True, slots=True)
class Backoff:
    """Full-jitter exponential backoff.

    Attributes:
        initial: Seconds; the ceiling of the first wait.
        maximum: Seconds; no wait is longer.
    """

    initial: float = 0.5
    maximum: float = 20.0

    def __post_init__(self) -> None:
        if self.initial <= 0 or self.maximum < self.initial:
            raise ValueError("backoff needs 0 < initial <= maximum")

    def ceiling(self, attempt: int) -> float:
        """The longest wait before attempt ``attempt`` (0 for the first retry)."""
        return min(self.maximum, self.initial * 2.0 ** min(attempt, 62))

    def delay(self, attempt: int, draw: Callable[[], float] = random.random) -> float:
        """A wait drawn uniformly between zero and :meth:`ceiling`."""
        return draw() * self.ceiling(attempt)
