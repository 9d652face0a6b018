"""A bounded FIFO buffer for one connection's frames, that costs nothing while it is empty.

``asyncio.Queue`` would do, but it allocates four deques and an event up front, several kilobytes
per queue; a server holds two per connection, most of them idle most of the time. This buffer keeps
the subset of ``asyncio.Queue`` the dispatcher uses (``put``, ``put_nowait``, ``get_nowait``,
``task_done``, ``join``), with the same semantics, and allocates only while frames or waiters exist.
:meth:`track` counts an item that skipped the buffer, so that :meth:`join` still waits for it.
"""

from __future__ import annotations

import asyncio
from collections import deque

__all__ = ["FrameBuffer"]


class FrameBuffer[T]:
    """At most ``limit`` items, first in first out; producers may wait for room.

    Args:
        limit: How many items it holds; more wait in :meth:`put`, or fail in :meth:`put_nowait`.
    """

    __slots__ = ("_idle", "_items", "_limit", "_room", "_unfinished")

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._items: deque[T] | None = None
        self._room: deque[asyncio.Future[None]] | None = None
        self._idle: list[asyncio.Future[None]] | None = None
        self._unfinished = 0

    def empty(self) -> bool:
        return not self._items

    def waiting(self) -> bool:
        """Whether producers are waiting for room; an item put without waiting would overtake them."""
        return bool(self._room)

    def full(self) -> bool:
        return self._items is not None and len(self._items) >= self._limit

    def put_nowait(self, item: T) -> None:
        """Add ``item`` at the end.

        Raises:
            asyncio.QueueFull: ``limit`` items are waiting already.
        """
        if self._items is None:
            self._items = deque()
        elif len(self._items) >= self._limit:
            raise asyncio.QueueFull
        self._items.append(item)
        self._unfinished += 1

    async def put(self, item: T) -> None:
        """Add ``item`` at the end, first waiting while the buffer is full; waiters go on in turn."""
        while self.full():
            room = asyncio.get_running_loop().create_future()
            if self._room is None:
                self._room = deque()
            self._room.append(room)
            try:
                await room
            except BaseException:
                self._forget(room)
                if not room.cancelled() and not self.full():
                    # Let in, then cancelled (a timeout, say): pass the turn on.
                    self._let_in_next()
                raise
        self.put_nowait(item)

    def track(self) -> None:
        """Count an item handed over directly, never stored: :meth:`join` waits for its ``task_done``."""
        self._unfinished += 1

    def get_nowait(self) -> T:
        """Remove and return the first item; the first producer waiting for room may then go on.

        Raises:
            asyncio.QueueEmpty: Nothing is waiting.
        """
        if not self._items:
            raise asyncio.QueueEmpty
        item = self._items.popleft()
        if not self._items:
            self._items = None
        self._let_in_next()
        return item

    def task_done(self) -> None:
        """An item taken out has been dealt with; :meth:`join` returns once all have."""
        if self._unfinished <= 0:
            raise ValueError("task_done() called more times than items were put")
        self._unfinished -= 1
        if self._unfinished == 0 and self._idle:
            for waiter in self._idle:
                if not waiter.done():
                    waiter.set_result(None)
            self._idle = None

    async def join(self) -> None:
        """Wait until every item put so far has been taken out and marked done."""
        if self._unfinished == 0:
            return
        waiter = asyncio.get_running_loop().create_future()
        if self._idle is None:
            self._idle = []
        self._idle.append(waiter)
        await waiter

    def _let_in_next(self) -> None:
        while self._room:
            room = self._room.popleft()
            if not room.done():
                room.set_result(None)
                break
        if not self._room:
            self._room = None

    def _forget(self, room: asyncio.Future[None]) -> None:
        if self._room is not None and room in self._room:
            self._room.remove(room)
            if not self._room:
                self._room = None
