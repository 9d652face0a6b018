"""The sync-to-async bridge: one asyncio event loop per Flask application, in a daemon thread.

Flask-Sock calls a route function in a worker thread and blocks it for the life of the connection,
while actions are coroutines. Rather than start an event loop per message (costly, and it breaks
anything an action caches on its loop), every connection of the application hands its coroutines to
this one long-lived loop and waits for the result. One loop also keeps all dispatchers of the
process together, so routing between connections needs no locks.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections import deque
from collections.abc import Callable, Coroutine, Iterator
from contextlib import AbstractAsyncContextManager, contextmanager
from typing import Any

__all__ = ["EventLoopThread", "Feed"]


class EventLoopThread:
    """A lazily started event loop in a daemon thread; restarted in a forked worker process."""

    def __init__(self, name: str = "beeflow-websocket") -> None:
        self._name = name
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pid = 0

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The running loop, started on first use."""
        with self._lock:
            # A loop started before a fork (gunicorn --preload) has no thread in the child.
            if self._loop is None or self._pid != os.getpid():
                self._loop = self._start()
                self._pid = os.getpid()
            return self._loop

    def run[T](self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` on the loop and block this thread until it returns or raises."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    @contextmanager
    def entered[T](self, manager: AbstractAsyncContextManager[T]) -> Iterator[T]:
        """Enter and exit an async context manager on the loop, from a block in this thread."""
        value = self.run(manager.__aenter__())
        try:
            yield value
        except BaseException as error:
            if not self.run(manager.__aexit__(type(error), error, error.__traceback__)):
                raise
        else:
            self.run(manager.__aexit__(None, None, None))

    def stop(self) -> None:
        """Stop the loop; a later :meth:`run` starts a new one."""
        with self._lock:
            loop, self._loop = self._loop, None
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(loop.stop)

    def _start(self) -> asyncio.AbstractEventLoop:
        loop = asyncio.new_event_loop()
        started = threading.Event()

        def serve() -> None:
            asyncio.set_event_loop(loop)
            loop.call_soon(started.set)
            try:
                loop.run_forever()
            finally:
                loop.close()

        threading.Thread(target=serve, name=self._name, daemon=True).start()
        started.wait()
        return loop


class Feed[T]:
    """Items from one thread to a consumer on the loop, in order, without a round trip per item.

    The thread appends an item and goes on: the loop hands every item that arrived meanwhile to the
    consumer in one wake-up, each in an eagerly started task, so an item the consumer takes at once
    costs no further hand-over. When the consumer is held up (its own bounded queue is full), the
    feed closes: the thread's next :meth:`put` waits until the consumer has taken that item. So the
    feed holds no more than what arrived since the loop last ran, and the consumer's queue is the
    only buffer that bounds the thread.

    Args:
        loop: The loop the consumer runs on.
        consume: Takes one item; returns once it is taken (queued, or handled).
    """

    def __init__(
        self, loop: asyncio.AbstractEventLoop, consume: Callable[[T], Coroutine[Any, Any, None]]
    ) -> None:
        self._loop = loop
        self._consume = consume
        self._items: deque[T] = deque()
        self._lock = threading.Lock()
        self._draining = False
        self._open = threading.Event()
        self._open.set()
        self._tasks: set[asyncio.Task[None]] = set()

    def put(self, item: T) -> None:
        """From the thread: hand ``item`` over; wait first while the consumer is held up."""
        self._open.wait()
        with self._lock:
            self._items.append(item)
            if self._draining:
                return
            self._draining = True
        self._loop.call_soon_threadsafe(self._start_draining)

    def _start_draining(self) -> None:
        task = asyncio.Task(self._drain(), loop=self._loop, eager_start=True)
        if not task.done():
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _drain(self) -> None:
        while True:
            with self._lock:
                if not self._items:
                    self._draining = False
                    return
                item = self._items.popleft()
            taken = asyncio.Task(self._consume(item), loop=self._loop, eager_start=True)
            if not taken.done():
                self._open.clear()
                try:
                    await taken
                finally:
                    self._open.set()
            taken.result()
