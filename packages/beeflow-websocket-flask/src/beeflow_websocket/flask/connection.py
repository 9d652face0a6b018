"""``handle_beeflow_websocket``: one Flask-Sock connection, served by the core dispatcher."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Final, Protocol
from uuid import uuid4

from flask import current_app, request
from simple_websocket import ConnectionClosed

from beeflow_websocket.core.access_token import read_access_token, split_subprotocol_header
from beeflow_websocket.core.action_registry import UserId
from beeflow_websocket.core.dispatcher import ConnectionDispatcher
from beeflow_websocket.flask.configuration import adapter_state

__all__ = ["FlaskSockWebSocket", "get_access_token", "handle_beeflow_websocket"]

logger: Final = logging.getLogger(__name__)
_CLOSE_TIMEOUT: Final = 1.0


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


class _FlaskSockTransport:
    """Writes to one Flask-Sock connection from a thread of its own.

    Flask-Sock's writes block until the socket takes the data. Made on the application's event loop,
    a client that stops reading would stall every connection of the process; made in this
    connection's own writer thread, it stalls only this connection, whose outbound queue then fills
    up and gets it closed.
    """

    __slots__ = ("_websocket", "_writer")

    def __init__(self, websocket: FlaskSockWebSocket) -> None:
        self._websocket = websocket
        self._writer: ThreadPoolExecutor | None = None

    async def send(self, frame: str) -> None:
        await asyncio.get_running_loop().run_in_executor(self._thread(), self._websocket.send, frame)

    async def close(self, code: int, reason: str) -> None:
        # Neither on the loop nor through the writer thread: both may be stuck behind this client.
        threading.Thread(
            target=self._close, args=(code, reason), name="beeflow-websocket-closer", daemon=True
        ).start()

    def _close(self, code: int, reason: str) -> None:
        closer = threading.Thread(
            target=self._websocket.close, kwargs={"reason": code, "message": reason}, daemon=True
        )
        closer.start()
        closer.join(_CLOSE_TIMEOUT)
        sock = getattr(self._websocket, "sock", None)
        if closer.is_alive() and sock is not None:
            # The client reads nothing, not even the close frame: drop the TCP connection.
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def shutdown(self) -> None:
        if self._writer is not None:
            self._writer.shutdown(wait=False, cancel_futures=True)

    def _thread(self) -> ThreadPoolExecutor:
        if self._writer is None:
            self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="beeflow-websocket-writer")
        return self._writer


def get_access_token() -> str | None:
    """Return the token the current WebSocket request offered after the ``access-token`` subprotocol.

    For the application's authentication, inside a Flask-Sock route.
    """
    return read_access_token(split_subprotocol_header(request.headers.get("Sec-WebSocket-Protocol")))


def handle_beeflow_websocket(
    websocket: FlaskSockWebSocket,
    *,
    user_id: UserId,
    websocket_id: str | None = None,
) -> None:
    """Dispatch the connection's frames until the client leaves; call it inside a Flask-Sock route.

    Frames are queued to the application's event loop, where the connection's actions run; this
    thread goes back to reading at once, so it notices a disconnect while an action still runs (and
    stops it). Returns normally when the client disconnects.

    Args:
        websocket: The connection object Flask-Sock passes to the route function.
        user_id: The authenticated user's id, from the application's own authentication.
        websocket_id: The connection id; a random UUID by default. It must be unique among the
            application's live connections.
    """
    state = adapter_state(current_app)
    transport = _FlaskSockTransport(websocket)
    dispatcher = ConnectionDispatcher(
        transport,
        delivery=state.delivery,
        websocket_id=websocket_id or str(uuid4()),
        user_id=user_id,
        path=request.path,
        settings=state.settings,
    )
    state.connections.add(dispatcher)
    try:
        state.bridge.run(dispatcher.open())
        while True:
            frame = websocket.receive()
            if frame is not None:
                state.bridge.run(dispatcher.receive(frame))
    except ConnectionClosed:
        logger.debug("connection %s closed", dispatcher.websocket_id)
    finally:
        state.connections.discard(dispatcher)
        state.bridge.run(dispatcher.close())
        transport.shutdown()
