"""The demo application: the page at ``/``, the WebSocket at ``/ws/``, and HTTP endpoints that push."""

from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI, WebSocket, WebSocketException, status
from fastapi import Path as PathParameter
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, PositiveInt

from beeflow_websocket.fastapi import (
    aemit_event,
    configure_beeflow_websocket,
    get_access_token,
    handle_beeflow_websocket,
)
from demo.ws.actions import ROOM_PATTERN, Text, room_group
from demo.ws.events import Notice, NoticeEvent

PAGE = Path(__file__).parent / "static" / "index.html"
# The page talks through the repository's TypeScript client, built by `make typescript`; served as it is
# (ESM, no bundler). The page says so when it is not built.
CLIENT = Path(__file__).resolve().parents[2] / "clients" / "typescript" / "dist"

# Demo tokens. A real application validates a signed token (a JWT, a session key) here instead.
DEMO_USERS = {"demo-alice": 1, "demo-bob": 2}

app = FastAPI(title="Beeflow WebSocket demo")
configure_beeflow_websocket(
    app,
    problem_type_base_url="https://example.com/problems/websocket",
    # A running countdown does not hold up the connection's other actions.
    max_concurrent_actions=4,
    # The contract: its page at /asyncapi (linked from the demo page), the document at /asyncapi.json.
    asyncapi={"title": "Beeflow WebSocket demo", "version": "1.0.0", "websocket_path": "/ws/"},
)


async def get_current_user_id(websocket: WebSocket) -> int:
    """Refuse the handshake unless the client offered a known demo token."""
    user_id = DEMO_USERS.get(get_access_token(websocket) or "")
    if user_id is None:
        raise WebSocketException(code=status.WS_1008_POLICY_VIOLATION, reason="unknown access token")
    return user_id


@app.get("/", include_in_schema=False)
async def page() -> FileResponse:
    return FileResponse(PAGE)


app.mount("/client", StaticFiles(directory=CLIENT, check_dir=False), name="client")


@app.websocket("/ws/")
async def websocket_endpoint(
    websocket: WebSocket, user_id: Annotated[int, Depends(get_current_user_id)]
) -> None:
    await handle_beeflow_websocket(websocket, user_id=user_id)


class NoticeRequest(BaseModel):
    text: Text


@app.post("/users/{user_id}/notices", status_code=status.HTTP_204_NO_CONTENT)
async def notify_user(user_id: PositiveInt, body: NoticeRequest) -> None:
    """Push a notice to every open tab of a user (the demo does not authenticate HTTP requests)."""
    notice = Notice(text=body.text, via=f"POST /users/{user_id}/notices")
    await aemit_event(NoticeEvent(recipient="user", recipient_id=user_id, payload=notice), app=app)


@app.post("/rooms/{room}/notices", status_code=status.HTTP_204_NO_CONTENT)
async def notify_room(room: Annotated[str, PathParameter(pattern=ROOM_PATTERN)], body: NoticeRequest) -> None:
    """Push a notice to every tab in a room."""
    notice = Notice(text=body.text, via=f"POST /rooms/{room}/notices")
    await aemit_event(NoticeEvent(recipient="group", recipient_id=room_group(room), payload=notice), app=app)
