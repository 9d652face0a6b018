"""The FastAPI application of the documentation's examples: one test token is valid."""

from fastapi import Depends, FastAPI, WebSocket, WebSocketException, status

from beeflow_websocket.fastapi import configure_beeflow_websocket, get_access_token, handle_beeflow_websocket

app = FastAPI()
configure_beeflow_websocket(app, problem_type_base_url="https://example.com/problems/websocket")


async def get_current_user_id(websocket: WebSocket) -> int:
    if get_access_token(websocket) != "a-valid-test-token":
        raise WebSocketException(code=status.WS_1008_POLICY_VIOLATION)
    return 7


@app.websocket("/ws/")
async def websocket_endpoint(websocket: WebSocket, user_id: int = Depends(get_current_user_id)) -> None:
    await handle_beeflow_websocket(websocket, user_id=user_id)
