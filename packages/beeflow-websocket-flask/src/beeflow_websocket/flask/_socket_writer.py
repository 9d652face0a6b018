"""Writing whole frames to a blocking socket from an event loop, without blocking the loop.

The socket of a Flask-Sock connection has two writers: the event loop (the protocol's frames) and
simple-websocket's own thread (its pong, ping and close frames). A frame is valid on the wire only
if nobody writes between its first byte and its last, so both write under one lock: the other writer
gets :meth:`SocketWriter.shared`, a socket whose ``send`` takes the lock and writes whole.

A write from the loop takes the lock when it is free and sends without blocking, which the socket
takes whole unless its client is behind: no thread is involved, which matters because a thread
hand-over per answer costs more than the protocol itself. What the socket does not take goes, with
the lock still held, to this socket's writer thread (started then), which writes the rest and lets
go of the lock; :meth:`SocketWriter.write` returns once the frame is written, so frames wait in the
dispatcher's outbound queue and nowhere else, where the slow-consumer policy sees them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import selectors
import socket
import threading
import time
from collections.abc import Callable
from queue import SimpleQueue
from typing import Any, Final

__all__ = ["SocketWriter"]

logger: Final = logging.getLogger(__name__)

CLOSE_GRACE: Final = 5.0
"""Seconds a closing connection's client has to read again and get a well-formed close frame."""

type _Write = tuple[bytes, bool, asyncio.Future[None], asyncio.AbstractEventLoop]


class _LockedSocket:
    """The socket as its other writer sees it: ``send`` writes whole, under the shared lock."""

    def __init__(self, sock: socket.socket, lock: threading.Lock) -> None:
        self._sock = sock
        self._lock = lock

    def send(self, data: bytes) -> int:
        with self._lock:
            self._sock.sendall(data)
        return len(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class SocketWriter:
    """The one way the event loop writes to ``sock``.

    Args:
        sock: A blocking socket, shared with one other writer through :meth:`shared`.
        close_grace: Seconds a stalled client has to read again when its connection is closed.
    """

    def __init__(self, sock: socket.socket, *, close_grace: float = CLOSE_GRACE) -> None:
        self.close_grace = close_grace
        self._sock = sock
        self._lock = threading.Lock()
        self._queue: SimpleQueue[_Write | None] = SimpleQueue()
        self._thread: threading.Thread | None = None

    def shared(self) -> Any:
        """The socket to give the other writer in place of ``sock``."""
        return _LockedSocket(self._sock, self._lock)

    async def write(self, data: bytes) -> None:
        """Write ``data`` whole; return once it is written.

        Raises:
            Exception: The peer has gone (an ``OSError``, mostly).
        """
        if not self._lock.acquire(blocking=False):
            # The other writer is in the middle of a frame: wait for it in the writer thread.
            await self._in_thread(data, locked=False)
            return
        try:
            sent = self._sock.send(data, socket.MSG_DONTWAIT)
        except BlockingIOError:
            sent = 0
        except BaseException:
            self._lock.release()
            raise
        if sent == len(data):
            self._lock.release()
        else:  # the frame is begun: its rest, and the lock, go to the writer thread
            await self._in_thread(data[sent:], locked=True)

    def close(self, encode: Callable[[], bytes]) -> None:
        """From a thread of its own: write a close frame, or drop the TCP connection.

        A client that stopped reading may still hold the socket's lock through the writer thread,
        mid-frame. It has :attr:`close_grace` seconds to read again: then the frame it was sent is
        finished and the close frame ``encode`` makes follows it, well-formed. If it does not, the
        TCP connection is dropped: a client that reads nothing cannot be sent a close frame.
        """
        deadline = time.monotonic() + self.close_grace
        if self._lock.acquire(timeout=self.close_grace):
            try:
                if self._send_before(encode(), deadline):
                    return
            except Exception:
                logger.debug("the close frame could not be written", exc_info=True)
            finally:
                self._lock.release()
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)

    def _send_before(self, data: bytes, deadline: float) -> bool:
        """Write ``data`` whole by ``deadline``, waiting for room as needed; whether it was."""
        with selectors.DefaultSelector() as selector:
            selector.register(self._sock, selectors.EVENT_WRITE)
            while data and (left := deadline - time.monotonic()) > 0:
                if selector.select(left):
                    with contextlib.suppress(BlockingIOError):
                        data = data[self._sock.send(data, socket.MSG_DONTWAIT) :]
        return not data

    def stop(self) -> None:
        """The connection is over: the writer thread, if any, ends."""
        self._queue.put(None)

    async def _in_thread(self, data: bytes, *, locked: bool) -> None:
        loop = asyncio.get_running_loop()
        written = loop.create_future()
        if self._thread is None:
            self._thread = threading.Thread(target=self._write, name="beeflow-websocket-writer", daemon=True)
            self._thread.start()
        self._queue.put((data, locked, written, loop))
        await written

    def _write(self) -> None:
        """The writer thread: blocking writes, each reported back to the loop that asked for it."""
        while (item := self._queue.get()) is not None:
            data, locked, written, loop = item
            failure: Exception | None = None
            try:
                if not locked:
                    self._lock.acquire()
                try:
                    self._sock.sendall(data)
                finally:
                    self._lock.release()
            except Exception as error:  # any failure means the connection is gone
                logger.debug("a write to the connection failed", exc_info=True)
                failure = error
            with contextlib.suppress(RuntimeError):  # the loop has stopped
                loop.call_soon_threadsafe(_settle, written, failure)


def _settle(written: asyncio.Future[None], failure: Exception | None) -> None:
    if written.done():  # the sender was cancelled: the connection is closing
        return
    if failure is None:
        written.set_result(None)
    else:
        written.set_exception(failure)
