"""Writing to a Flask-Sock connection from the event loop without ever blocking it.

Flask-Sock's ``send`` blocks until the socket takes the data. Made on the application's event loop,
a write to a client that stopped reading would stall every connection of the process; made in a
thread per frame, every answer pays two thread hand-overs, which cost more than the protocol.

So a frame is written on the loop with a non-blocking send, which the socket takes whole unless its
client is behind. Whatever it does not take goes to a writer thread of this connection, started then,
and every later frame queues behind it there, in order, until the backlog is written. ``send`` waits
while that backlog is full, so the dispatcher's outbound queue fills up behind a client that stopped
reading, and the dispatcher closes it (1013).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
from queue import SimpleQueue
from typing import Any, Final, Protocol

from simple_websocket import ConnectionClosed
from wsproto.events import TextMessage

__all__ = ["FlaskSockTransport", "FlaskSockWebSocket"]

logger: Final = logging.getLogger(__name__)

_CLOSE_TIMEOUT: Final = 1.0
BACKLOG_LIMIT: Final = 8
"""Frames the writer thread may hold before ``send`` waits for it."""


class FlaskSockWebSocket(Protocol):
    """The part of Flask-Sock's connection object (``simple_websocket.Server``) the adapter uses."""

    def send(self, data: str | bytes) -> None:
        """Write one frame."""
        ...

    def receive(self, timeout: float | None = None) -> str | bytes | None:
        """Wait for the next frame; raises ``ConnectionClosed`` once the client has gone."""
        ...

    def close(self, reason: int | None = None, message: str | None = None) -> None:
        """Close the connection with a close code (``reason``) and a text (``message``)."""
        ...


class FlaskSockTransport:
    """Writes one Flask-Sock connection's frames, on the loop or through a writer thread of its own.

    Frames go on the loop while the socket takes them whole, else in order through the thread.
    Connections that are not ``simple_websocket`` connections (no ``sock`` and ``ws`` to encode and
    write with) always go through the writer thread.
    """

    def __init__(self, websocket: FlaskSockWebSocket) -> None:
        self._websocket = websocket
        self._socket: socket.socket | None = getattr(websocket, "sock", None)
        self._protocol: Any = getattr(websocket, "ws", None)
        self._backlog = 0
        self._room: asyncio.Future[None] | None = None
        self._failure: BaseException | None = None
        self._queue: SimpleQueue[tuple[str | bytes, bool] | None] = SimpleQueue()
        self._thread: threading.Thread | None = None

    async def send(self, frame: str) -> None:
        if self._failure is not None:
            raise ConnectionClosed() from self._failure
        sock, protocol = self._socket, self._protocol
        if sock is None or protocol is None:
            await self._through_thread(frame, encoded=False)
            return
        if not getattr(self._websocket, "connected", True):
            raise ConnectionClosed()
        data: bytes = protocol.send(TextMessage(data=frame))
        if self._backlog == 0:
            try:
                sent = sock.send(data, socket.MSG_DONTWAIT)
            except BlockingIOError:
                sent = 0
            if sent == len(data):
                return
            data = data[sent:]
        await self._through_thread(data, encoded=True)

    async def close(self, code: int, reason: str) -> None:
        # Neither on the loop nor through the writer thread: both may be stuck behind this client.
        threading.Thread(
            target=self._close, args=(code, reason), name="beeflow-websocket-closer", daemon=True
        ).start()

    def shutdown(self) -> None:
        """The connection is over: let the writer thread end once it has nothing left to write."""
        self._queue.put(None)

    async def _through_thread(self, data: str | bytes, *, encoded: bool) -> None:
        """Queue ``data`` for the writer thread; wait first while its backlog is full."""
        loop = asyncio.get_running_loop()
        while self._backlog >= BACKLOG_LIMIT:
            if self._room is None or self._room.done():
                self._room = loop.create_future()
            await self._room
            if self._failure is not None:
                raise ConnectionClosed() from self._failure
        self._backlog += 1
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._write, args=(loop,), name="beeflow-websocket-writer", daemon=True
            )
            self._thread.start()
        self._queue.put((data, encoded))

    def _write(self, loop: asyncio.AbstractEventLoop) -> None:
        """The writer thread: blocking writes, in order, reporting each one back to the loop."""
        while (item := self._queue.get()) is not None:
            data, encoded = item
            try:
                if encoded and self._socket is not None:
                    self._socket.sendall(data)  # type: ignore[arg-type]
                else:
                    self._websocket.send(data)
            except Exception as error:  # any failure means the connection is gone
                logger.debug("a write to the connection failed", exc_info=True)
                with contextlib.suppress(RuntimeError):  # the loop has stopped
                    loop.call_soon_threadsafe(self._written, error)
                return
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._written, None)

    def _written(self, failure: BaseException | None) -> None:
        """On the loop: one queued frame is written (or writing failed); make room for the next."""
        self._backlog -= 1
        if failure is not None:
            self._failure = failure
        if self._room is not None and not self._room.done():
            self._room.set_result(None)

    def _close(self, code: int, reason: str) -> None:
        closer = threading.Thread(
            target=self._websocket.close, kwargs={"reason": code, "message": reason}, daemon=True
        )
        closer.start()
        closer.join(_CLOSE_TIMEOUT)
        sock = self._socket
        if closer.is_alive() and sock is not None:
            # The client reads nothing, not even the close frame: drop the TCP connection.
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
