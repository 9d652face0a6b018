"""``handle_beeflow_websocket``: one Flask-Sock connection, served by the core dispatcher."""

from __future__ import annotations

import logging
import threading
from collections.abc import Collection
from typing import Final, Protocol
from uuid import uuid4

from flask import current_app, request
from simple_websocket import ConnectionClosed

from beeflow_websocket.core.access_token import read_access_token, split_subprotocol_header
from beeflow_websocket.core.action_registry import UserId
from beeflow_websocket.core.dispatcher import ConnectionDispatcher
from beeflow_websocket.core.local import LocalConnections
from beeflow_websocket.core.transport import OutboundEvent
from beeflow_websocket.flask.configuration import adapter_state

__all__ = ["FlaskSockWebSocket", "get_access_token", "handle_beeflow_websocket"]

logger: Final = logging.getLogger(__name__)


class FlaskSockWebSocket(Protocol):
    """The part of Flask-Sock's connection object (``simple_websocket.Server``) the adapter uses."""

    def send(self, data: str | bytes) -> None:
        """Write one frame."""
        ...

    def receive(self, timeout: float | None = None) -> str | bytes | None:
        """Wait for the next frame; raises ``ConnectionClosed`` once the client has gone."""
        ...


class _FlaskSockTransport:
    """Writes to one Flask-Sock connection; routes to the application's other connections.

    Writes come from the application's event loop thread; the lock keeps frames whole should the
    route function's thread ever write too.
    """

    __slots__ = ("_connections", "_lock", "_websocket")

    def __init__(self, websocket: FlaskSockWebSocket, connections: LocalConnections) -> None:
        self._websocket = websocket
        self._connections = connections
        self._lock = threading.Lock()

    async def send(self, frame: str) -> None:
        with self._lock:
            self._websocket.send(frame)

    async def route(self, websocket_ids: Collection[str], event: OutboundEvent) -> None:
        await self._connections.route(websocket_ids, event)


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
    dispatcher = ConnectionDispatcher(
        _FlaskSockTransport(websocket, state.connections),
        websocket_id=websocket_id or str(uuid4()),
        user_id=user_id,
        path=request.path,
        settings=state.settings,
    )
    state.connections.add(dispatcher)
    try:
        while True:
            frame = websocket.receive()
            if frame is not None:
                state.bridge.run(dispatcher.receive(frame))
    except ConnectionClosed:
        logger.debug("connection %s closed", dispatcher.websocket_id)
    finally:
        state.connections.discard(dispatcher)
        state.bridge.run(dispatcher.close())
