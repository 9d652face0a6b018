"""FastAPI under uvicorn: /ws/ (Beeflow), /echo/ (the framework's floor), /json/ and /fanout/ (hand-written)."""

from uuid import uuid4

from fastapi import FastAPI, WebSocket, WebSocketDisconnect

from beeflow_websocket.fastapi import configure_beeflow_websocket, handle_beeflow_websocket

from benchplugins import register_fanout_actions
from handwritten import HandWrittenGroup, HandWrittenHealth

app = FastAPI()
configure_beeflow_websocket(app, autodiscover=False)
register_fanout_actions()
members: set[WebSocket] = set()


@app.websocket("/ws/")
async def beeflow(websocket: WebSocket) -> None:
    await handle_beeflow_websocket(websocket, user_id=1)


@app.websocket("/echo/")
async def echo(websocket: WebSocket) -> None:
    await websocket.accept()
    try:
        while True:
            await websocket.send_text(await websocket.receive_text())
    except WebSocketDisconnect:
        pass


@app.websocket("/json/")
async def handwritten(websocket: WebSocket) -> None:
    await websocket.accept()
    health = HandWrittenHealth(str(uuid4()))
    try:
        while True:
            await websocket.send_text(health.answer(await websocket.receive_text()))
    except WebSocketDisconnect:
        pass


@app.websocket("/fanout/")
async def fanout(websocket: WebSocket) -> None:
    """A module-level set of members; a broadcast is one send to each, in turn."""
    await websocket.accept()
    group = HandWrittenGroup(str(uuid4()))
    try:
        while True:
            kind, frame = group.read(await websocket.receive_text())
            if kind == "join":
                members.add(websocket)
                await websocket.send_text(frame)
                continue
            for member in list(members):
                await member.send_text(frame)
    except WebSocketDisconnect:
        pass
    finally:
        members.discard(websocket)
