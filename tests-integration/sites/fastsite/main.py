"""The FastAPI test site, served by uvicorn: ``uvicorn fastsite.main:app``."""

import logging
from typing import Annotated

from fastapi import Depends, FastAPI, WebSocket, WebSocketException, status

from beeflow_websocket.fastapi import configure_beeflow_websocket, get_access_token, handle_beeflow_websocket

logging.basicConfig(level=logging.DEBUG, format="%(levelname)s %(name)s %(message)s")

app = FastAPI()
configure_beeflow_websocket(app, problem_type_base_url="https://example.com/problems/websocket")


async def get_current_user_id(websocket: WebSocket) -> int:
    """Accept tokens of the form user-<id>; anything else is refused."""
    token = get_access_token(websocket) or ""
    if not token.startswith("user-") or not token[5:].isdigit():
        raise WebSocketException(code=status.WS_1008_POLICY_VIOLATION)
    return int(token[5:])


@app.websocket("/ws/")
async def websocket_endpoint(
    websocket: WebSocket, user_id: Annotated[int, Depends(get_current_user_id)]
) -> None:
    await handle_beeflow_websocket(websocket, user_id=user_id)
