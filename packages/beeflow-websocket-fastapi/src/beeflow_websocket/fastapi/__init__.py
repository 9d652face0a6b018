"""Beeflow WebSocket for FastAPI: serve the protocol on a FastAPI WebSocket route.

Routing and authentication stay in the application::

    app = FastAPI()
    configure_beeflow_websocket(app, problem_type_base_url="https://example.com/problems/websocket")

    @app.websocket("/ws/")
    async def websocket_endpoint(websocket: WebSocket, user_id: int = Depends(get_current_user_id)) -> None:
        await handle_beeflow_websocket(websocket, user_id=user_id)
"""

from beeflow_websocket.fastapi.configuration import configure_beeflow_websocket
from beeflow_websocket.fastapi.connection import get_access_token, handle_beeflow_websocket
from beeflow_websocket.fastapi.push import (
    adisconnect_connection,
    adisconnect_user,
    aemit_event,
    disconnect_connection,
    disconnect_user,
    emit_event,
)

__all__ = [
    "adisconnect_connection",
    "adisconnect_user",
    "aemit_event",
    "configure_beeflow_websocket",
    "disconnect_connection",
    "disconnect_user",
    "emit_event",
    "get_access_token",
    "handle_beeflow_websocket",
]
