"""Starting a connection's tasks eagerly.

A task started eagerly runs at once, in the caller, until it first has to wait. A request whose
action never waits (``health``, most lookups) is therefore handled and written with no trip through
the event loop, which is most of the in-process throughput (see ``docs/benchmarks``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine

__all__ = ["start_eagerly"]


def start_eagerly(work: Coroutine[None, None, None]) -> asyncio.Task[None]:
    """Run ``work`` in a task of its own, started at once, here, until it first waits."""
    return asyncio.Task(work, loop=asyncio.get_running_loop(), eager_start=True)
