"""``handle_beeflow_websocket``: one Flask-Sock connection, served by the core dispatcher."""

from __future__ import annotations

import logging
from typing import Final

from flask import current_app, request
from simple_websocket import ConnectionClosed

from beeflow_websocket.core.access_token import read_access_token, split_subprotocol_header
from beeflow_websocket.core.action_registry import UserId
from beeflow_websocket.flask._bridge import Feed
from beeflow_websocket.flask._transport import FlaskSockTransport, FlaskSockWebSocket
from beeflow_websocket.flask.configuration import adapter_state

__all__ = ["FlaskSockWebSocket", "get_access_token", "handle_beeflow_websocket"]

logger: Final = logging.getLogger(__name__)


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

    Each frame is handed to the application's event loop, where the connection's actions run, and
    this thread goes on reading, so it notices a disconnect while an action still runs (and stops
    it). The dispatcher's bounded queue is the only buffer: while it is full this thread stops
    reading, which slows a flooding client down. Returns normally when the client disconnects.

    Args:
        websocket: The connection object Flask-Sock passes to the route function.
        user_id: The authenticated user's id, from the application's own authentication.
        websocket_id: The connection id; a random UUID by default. It must be unique among the
            application's live connections.
    """
    state = adapter_state(current_app)
    transport = FlaskSockTransport(websocket)
    offered = split_subprotocol_header(request.headers.get("Sec-WebSocket-Protocol"))
    lifecycle = state.connection(
        transport, user_id=user_id, websocket_id=websocket_id, path=request.path, subprotocols=offered
    )
    try:
        with state.bridge.entered(lifecycle) as dispatcher:
            feed = Feed(state.bridge.loop, dispatcher.receive)
            while True:
                frame = websocket.receive()
                if frame is not None:
                    feed.put(frame)
    except ConnectionClosed:
        logger.debug("connection %s closed", lifecycle.dispatcher.websocket_id)
    finally:
        transport.shutdown()
