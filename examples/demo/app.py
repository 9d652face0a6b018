"""The demo application: a page at ``/`` and the WebSocket endpoint at ``/ws/``."""

from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI, WebSocket, WebSocketException, status
from fastapi.responses import FileResponse

from beeflow_websocket.fastapi import configure_beeflow_websocket, get_access_token, handle_beeflow_websocket

PAGE = Path(__file__).parent / "static" / "index.html"

# Demo tokens. A real application validates a signed token (a JWT, a session key) here instead.
DEMO_USERS = {"demo-alice": 1, "demo-bob": 2}

app = FastAPI(title="Beeflow WebSocket demo")
configure_beeflow_websocket(app, problem_type_base_url="https://example.com/problems/websocket")


async def get_current_user_id(websocket: WebSocket) -> int:
    """Refuse the handshake unless the client offered a known demo token."""
    user_id = DEMO_USERS.get(get_access_token(websocket) or "")
    if user_id is None:
        raise WebSocketException(code=status.WS_1008_POLICY_VIOLATION, reason="unknown access token")
    return user_id


@app.get("/", include_in_schema=False)
async def page() -> FileResponse:
    return FileResponse(PAGE)


@app.websocket("/ws/")
async def websocket_endpoint(
    websocket: WebSocket, user_id: Annotated[int, Depends(get_current_user_id)]
) -> None:
    await handle_beeflow_websocket(websocket, user_id=user_id)
