"""``handle_beeflow_websocket``: one Flask-Sock connection, served by the core dispatcher."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Final

from flask import Flask, current_app, request
from simple_websocket import ConnectionClosed

from beeflow_websocket.core.access_token import read_access_token, split_subprotocol_header
from beeflow_websocket.core.action_registry import UserId
from beeflow_websocket.core.guardrails.expiry import Expiry, Refresh
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
    expires_at: Expiry = None,
    refresh: Callable[[str], tuple[UserId, Expiry] | None] | None = None,
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
        expires_at: When the credentials the user authenticated with expire (an aware ``datetime``
            or seconds since the epoch, as a JWT's ``exp``); ``None`` (the default): never. A v1
            client is told ``token_expiry_notice`` seconds before; a connection not refreshed is
            closed with 4440 ``token_expiry_grace`` seconds after.
        refresh: ``def refresh(token) -> (user_id, expires_at) | None``: checks the fresh token a
            client sends with ``beeflow.refresh``, as the route checked the first; it runs in a
            thread of its own, inside the application's context. A token of another user, or
            ``None``, is refused 401 ``token_refused``.
    """
    state = adapter_state(current_app)
    transport = FlaskSockTransport(websocket)
    offered = split_subprotocol_header(request.headers.get("Sec-WebSocket-Protocol"))
    lifecycle = state.connection(
        transport,
        user_id=user_id,
        websocket_id=websocket_id,
        path=request.path,
        subprotocols=offered,
        expires_at=expires_at,
        refresh=None if refresh is None else _in_a_thread(current_app._get_current_object(), refresh),  # type: ignore[attr-defined]
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


def _in_a_thread(app: Flask, refresh: Callable[[str], tuple[UserId, Expiry] | None]) -> Refresh:
    """The application's synchronous check of a fresh token, run off the event loop in its context."""

    def checked(token: str) -> tuple[UserId, Expiry] | None:
        with app.app_context():
            return refresh(token)

    async def hook(token: str) -> tuple[UserId, Expiry] | None:
        return await asyncio.to_thread(checked, token)

    return hook
