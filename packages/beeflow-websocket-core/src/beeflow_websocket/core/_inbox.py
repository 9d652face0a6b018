"""Requests received from one client, waiting for one of the connection's action slots.

Requests (decoded frames) wait in a bounded queue for one of ``max_concurrent_actions`` workers.
:meth:`Inbox.put` returns as soon as a request is queued, so the adapter goes on reading and notices
a disconnect while an action still runs; it waits only while the queue is full, which slows a
flooding client down. A worker is a task started when there is work, eagerly, and ends when there is
none: an idle connection holds no task, and a request that finds a free slot is handled inside
``put``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from beeflow_websocket.core._buffer import FrameBuffer
from beeflow_websocket.core._tasks import start_eagerly

__all__ = ["Inbox"]


class Inbox[T]:
    """The inbound queue of one connection and the workers that drain it, in order of arrival.

    Args:
        handle: Handles one frame; called by at most ``workers`` tasks at once.
        workers: How many frames may be handled at once.
        limit: How many frames may wait for a worker.
    """

    __slots__ = ("_active", "_frames", "_handle", "_max_workers", "_workers")

    def __init__(self, handle: Callable[[T], Awaitable[None]], *, workers: int, limit: int) -> None:
        self._handle = handle
        self._max_workers = workers
        self._frames: FrameBuffer[T] = FrameBuffer(limit)
        self._active = 0
        self._workers: set[asyncio.Task[None]] | None = None

    def offer(self, frame: T) -> bool:
        """Hand ``frame`` to a free worker if there is one and nothing waits; ``False`` if not.

        The usual case, a plain call: it spares every frame a coroutine of its own.
        """
        if self._active < self._max_workers and self._frames.empty():
            self._frames.track()  # handed over directly, still counted by join()
            self._start_worker(frame)
            return True
        return False

    async def put(self, frame: T) -> None:
        """Hand ``frame`` to a free worker, or queue it, waiting while the queue is full."""
        if self.offer(frame):
            return
        if self._frames.full():
            await self._frames.put(frame)
        else:
            self._frames.put_nowait(frame)
        if self._active < self._max_workers:
            self._start_worker(None)

    async def join(self) -> None:
        """Wait until every frame put so far has been handled."""
        await self._frames.join()

    async def stop(self) -> None:
        """Cancel the running workers, wait for them, and drop the frames still waiting."""
        workers = tuple(self._workers or ())
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        # An adapter held back by a full queue is let go.
        while not self._frames.empty():
            self._frames.get_nowait()
            self._frames.task_done()

    def _start_worker(self, first: T | None) -> None:
        self._active += 1
        worker = start_eagerly(self._work(first))
        if not worker.done():
            if self._workers is None:
                self._workers = set()
            self._workers.add(worker)
            worker.add_done_callback(self._workers.discard)

    async def _work(self, first: T | None) -> None:
        """Handle ``first`` (handed over directly), then frames from the queue until it is empty."""
        try:
            while first is not None or not self._frames.empty():
                frame = first if first is not None else self._frames.get_nowait()
                first = None
                try:
                    await self._handle(frame)
                finally:
                    self._frames.task_done()
        finally:
            self._active -= 1
