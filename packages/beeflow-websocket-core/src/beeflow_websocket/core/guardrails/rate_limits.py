"""Rate limits as arithmetic: how many requests a connection, or a user, may make.

A :class:`RateLimit` such as ``"10/s"`` or ``"100/min"`` allows ``count`` requests per ``period``,
all at once if they come at once: a token bucket that holds ``count`` tokens and gains one every
``period / count`` seconds. Its state is one number per bucket, the time at which the bucket will be
full again (the generic cell rate algorithm, GCRA): it fits one Redis key, and checking several
buckets at once, all or none taken, needs no lock.

:class:`Buckets` keeps such numbers in memory: one per connection (its own limits) or one per process
(its users' limits when there is no shared store, :class:`LocalTokens`). The same arithmetic runs in
Redis for limits shared by every process (:mod:`beeflow_websocket.core.guardrails.redis_tokens`).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, NamedTuple, Protocol

__all__ = ["Buckets", "LocalTokens", "RateLimit", "TokenStore", "Wait", "rate_limit", "retry_after"]

_UNITS: Final = {
    "s": 1.0,
    "sec": 1.0,
    "second": 1.0,
    "min": 60.0,
    "minute": 60.0,
    "h": 3600.0,
    "hour": 3600.0,
}
_TEXT: Final = re.compile(r"\s*(\d+)\s*/\s*(\d*\.?\d*)\s*([a-z]+)\s*")


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most ``count`` requests per ``period`` seconds; a burst of ``count`` is allowed.

    Raises:
        ValueError: ``count`` is not a positive integer or ``period`` not a positive number.
    """

    count: int
    period: float

    def __post_init__(self) -> None:
        if isinstance(self.count, bool) or not isinstance(self.count, int) or self.count < 1:
            raise ValueError(f"a rate limit's count must be a positive integer, got {self.count!r}")
        if isinstance(self.period, bool) or not isinstance(self.period, int | float) or not self.period > 0:
            raise ValueError(
                f"a rate limit's period must be a positive number of seconds, got {self.period!r}"
            )

    @classmethod
    def parse(cls, text: str) -> RateLimit:
        """Read ``"<count>/<period>"``: ``"10/s"``, ``"100/min"``, ``"1000/h"``, ``"5/10s"``.

        Raises:
            ValueError: ``text`` is not of that form.
        """
        match = _TEXT.fullmatch(text) if isinstance(text, str) else None
        if match is None or match.group(3) not in _UNITS or match.group(2) in (".",):
            raise ValueError(
                f"{text!r} is not a rate limit: write <count>/<period>, such as '10/s', '100/min' or '5/10s'"
            )
        count, multiple, unit = match.groups()
        return cls(int(count), (float(multiple) if multiple else 1.0) * _UNITS[unit])

    @property
    def interval(self) -> float:
        """Seconds between two requests at the sustained rate: one token's worth."""
        return self.period / self.count

    def __str__(self) -> str:
        return f"{self.count}/{self.period:g}s"


def rate_limit(value: RateLimit | str | None, name: str) -> RateLimit | None:
    """``value`` as a :class:`RateLimit`; ``None`` stays ``None`` (no limit).

    Raises:
        ValueError: ``value`` is not a rate limit; the message names the setting ``name``.
    """
    if value is None or isinstance(value, RateLimit):
        return value
    try:
        return RateLimit.parse(value)
    except ValueError as error:
        raise ValueError(f"{name}: {error}") from None


def _wait_for(full_at: float, now: float, limit: RateLimit) -> float:
    """Seconds until the bucket whose state is ``full_at`` has a token; 0 when it has one now."""
    # A bucket full at `full_at` holds (period - (full_at - now)) / interval tokens: at least one
    # unless full_at - now exceeds period - interval.
    return max(0.0, max(full_at, now) - now - (limit.period - limit.interval))


class Wait(NamedTuple):
    """A refusal: ``seconds`` until a request would be allowed, and the ``limit`` that refused it."""

    seconds: float
    limit: RateLimit


class Buckets:
    """Token buckets in memory, by key: the state of each is when it will be full again.

    Args:
        prune_above: How many buckets may be kept before full ones (which need no state) are dropped.
    """

    __slots__ = ("_full_at", "_prune_above")

    def __init__(self, *, prune_above: int = 10_000) -> None:
        self._full_at: dict[str, float] = {}
        self._prune_above = prune_above

    def __len__(self) -> int:
        return len(self._full_at)

    def wait(self, checks: Sequence[tuple[str, RateLimit]], now: float) -> Wait | None:
        """How long until every bucket of ``checks`` has a token, and whose limit says so; ``None``: now."""
        longest: Wait | None = None
        for key, limit in checks:
            seconds = _wait_for(self._full_at.get(key, now), now, limit)
            if seconds > 0 and (longest is None or seconds > longest.seconds):
                longest = Wait(seconds, limit)
        return longest

    def take(self, checks: Sequence[tuple[str, RateLimit]], now: float) -> Wait | None:
        """Take a token from every bucket of ``checks``, or, when one has none, from none.

        Returns:
            ``None`` when the tokens were taken; else how long until every bucket has one again.
        """
        refused = self.wait(checks, now)
        if refused is not None:
            return refused
        full_at = self._full_at
        for key, limit in checks:
            full_at[key] = max(full_at.get(key, now), now) + limit.interval
        if len(full_at) > self._prune_above:
            self._prune(now)
        return None

    def _prune(self, now: float) -> None:
        """Forget the buckets that are full by now: a missing bucket is a full one."""
        for key in [key for key, full_at in self._full_at.items() if full_at <= now]:
            del self._full_at[key]
        if len(self._full_at) > self._prune_above:
            # Everything is in use: allow twice as many before looking again, so pruning stays rare.
            self._prune_above *= 2


def retry_after(wait: float) -> float:
    """What a client is told to wait: ``wait`` rounded up to the millisecond."""
    return math.ceil(wait * 1000) / 1000


class TokenStore(Protocol):
    """Token buckets every process of the deployment shares: the users' limits.

    Each bucket belongs to an ``owner`` (a user), so a store can keep all of an owner's buckets
    together (one Redis Cluster slot). :class:`LocalTokens` keeps them in this process;
    :class:`~beeflow_websocket.core.guardrails.redis_tokens.RedisTokens` in Redis.
    """

    async def take(self, owner: str, checks: Sequence[tuple[str, RateLimit]]) -> Wait | None:
        """Take a token from each of ``owner``'s buckets named in ``checks``, or from none.

        Returns:
            ``None`` when the tokens were taken; else how long until every bucket has one again.
        """
        ...


class LocalTokens:
    """A :class:`TokenStore` in this process's memory: exact for one process, per process for several."""

    __slots__ = ("_buckets",)

    def __init__(self) -> None:
        self._buckets = Buckets()

    async def take(self, owner: str, checks: Sequence[tuple[str, RateLimit]]) -> Wait | None:
        """See :meth:`TokenStore.take`."""
        return self.take_now(owner, checks)

    def take_now(self, owner: str, checks: Sequence[tuple[str, RateLimit]]) -> Wait | None:
        """:meth:`take`, without waiting: what a store that lost its server falls back on."""
        keyed = [(f"{owner}\x00{name}", limit) for name, limit in checks]
        return self._buckets.take(keyed, time.monotonic())
