"""The Flask-Sock connection as the dispatcher's transport: frames encoded here, written whole.

Frames are encoded with the connection's own wsproto state and written by a
:class:`~beeflow_websocket.flask._socket_writer.SocketWriter`, which shares one lock with
simple-websocket's thread, so a pong can never land inside a frame. A connection object that is not
a ``simple_websocket`` connection (no ``sock`` and ``ws``) is written through its public ``send``,
in a worker thread. Closing happens in a thread of its own: the loop never waits for a client.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Protocol

from simple_websocket import ConnectionClosed
from wsproto.events import CloseConnection, TextMessage

from beeflow_websocket.flask._socket_writer import SocketWriter

__all__ = ["FlaskSockTransport", "FlaskSockWebSocket"]


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
    """Writes one Flask-Sock connection's frames; returns once each is written."""

    def __init__(self, websocket: FlaskSockWebSocket) -> None:
        self._websocket: FlaskSockWebSocket = websocket
        sock = getattr(websocket, "sock", None)
        self._writer = None if sock is None or not hasattr(websocket, "ws") else SocketWriter(sock)
        if self._writer is not None:
            websocket.sock = self._writer.shared()  # type: ignore[attr-defined]

    async def send(self, frame: str) -> None:
        if not getattr(self._websocket, "connected", True):
            raise ConnectionClosed()
        if self._writer is None:
            await asyncio.to_thread(self._websocket.send, frame)
        else:
            await self._writer.write(self._websocket.ws.send(TextMessage(data=frame)))  # type: ignore[attr-defined]

    async def close(self, code: int, reason: str) -> None:
        threading.Thread(
            target=self._close, args=(code, reason), name="beeflow-websocket-closer", daemon=True
        ).start()

    def shutdown(self) -> None:
        """The connection is over: the writer thread, if one was started, ends."""
        if self._writer is not None:
            self._writer.stop()

    def _close(self, code: int, reason: str) -> None:
        websocket = self._websocket
        if self._writer is None:
            with contextlib.suppress(Exception):
                websocket.close(reason=code, message=reason)
            return

        def close_frame() -> bytes:
            websocket.connected = False  # type: ignore[attr-defined]
            data: bytes = websocket.ws.send(CloseConnection(code=code, reason=reason))  # type: ignore[attr-defined]
            return data

        self._writer.close(close_frame)
