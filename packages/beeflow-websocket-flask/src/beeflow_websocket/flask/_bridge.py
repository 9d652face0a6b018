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
from collections.abc import Coroutine
from typing import Any

__all__ = ["EventLoopThread"]


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
