"""``handle_beeflow_websocket``: one FastAPI WebSocket connection, served by the core dispatcher."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any, Final

from starlette.websockets import WebSocket, WebSocketDisconnect

from beeflow_websocket.core.access_token import read_access_token
from beeflow_websocket.core.action_registry import UserId
from beeflow_websocket.core.guardrails.expiry import Expiry, Refresh
from beeflow_websocket.core.negotiation import selected_subprotocol
from beeflow_websocket.fastapi.configuration import adapter_state

__all__ = ["get_access_token", "handle_beeflow_websocket"]

logger: Final = logging.getLogger(__name__)


class _StarletteTransport:
    """Writes to one Starlette WebSocket: its own ``send_text`` and ``close``, with no wrapper call."""

    __slots__ = ("close", "send")

    def __init__(self, websocket: WebSocket) -> None:
        self.send: Callable[[str], Coroutine[Any, Any, None]] = websocket.send_text
        self.close: Callable[[int, str], Coroutine[Any, Any, None]] = websocket.close


def get_access_token(websocket: WebSocket) -> str | None:
    """Return the token the client offered after the ``access-token`` subprotocol, if any.

    For the application's authentication dependency; the token is never selected or echoed.
    """
    return read_access_token(websocket.scope.get("subprotocols", ()))


async def handle_beeflow_websocket(
    websocket: WebSocket,
    *,
    user_id: UserId,
    websocket_id: str | None = None,
    expires_at: Expiry = None,
    refresh: Refresh | None = None,
) -> None:
    """Accept the connection and dispatch its frames until the client leaves.

    The handshake selects ``beeflow.v1`` when the client offered it (the connection then speaks
    protocol v1), else the ``access-token`` subprotocol when offered, and never the token.
    A handshake whose ``Origin`` the application does not allow is refused with HTTP 403 (see
    :mod:`beeflow_websocket.core.origins`).
    Returns normally when the client disconnects; actions still running are stopped then.

    Args:
        websocket: The connection, as FastAPI passes it to a WebSocket route.
        user_id: The authenticated user's id, from the application's own authentication.
        websocket_id: The connection id; a random UUID by default. It must be unique among the
            application's live connections.
        expires_at: When the credentials the user authenticated with expire (an aware ``datetime``
            or seconds since the epoch, as a JWT's ``exp``); ``None`` (the default): never. A v1
            client is told ``token_expiry_notice`` seconds before; a connection not refreshed is
            closed with 4440 ``token_expiry_grace`` seconds after.
        refresh: ``async def refresh(token) -> (user_id, expires_at) | None``: checks the fresh token
            a client sends with ``beeflow.refresh``, as the route's dependency checked the first.
            A token of another user, or ``None``, is refused 401 ``token_refused``.
    """
    state = adapter_state(websocket.app)
    subprotocols = websocket.scope.get("subprotocols", ())
    origin_ok = state.origin_allowed(
        websocket.headers.get("origin"),
        host=websocket.headers.get("host"),
        token_offered=read_access_token(subprotocols) is not None,
    )
    if not origin_ok:
        # Closing before accepting refuses the handshake: the server answers HTTP 403.
        logger.warning("refused a connection from origin %r", websocket.headers.get("origin"))
        await websocket.close(code=1008)
        return
    transport = _StarletteTransport(websocket)
    path = websocket.url.path
    async with state.connection(
        transport,
        user_id=user_id,
        websocket_id=websocket_id,
        path=path,
        subprotocols=subprotocols,
        expires_at=expires_at,
        refresh=refresh,
    ) as dispatcher:
        await websocket.accept(subprotocol=selected_subprotocol(subprotocols))
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    return
                text = message.get("text")
                await dispatcher.receive(text if text is not None else message.get("bytes") or b"")
        except WebSocketDisconnect:
            logger.debug("connection %s closed", dispatcher.websocket_id)
