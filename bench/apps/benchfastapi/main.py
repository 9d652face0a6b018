"""FastAPI under uvicorn: /ws/ (Beeflow), /echo/ (the framework's floor), /json/ (hand-written)."""

from uuid import uuid4

from fastapi import FastAPI, WebSocket, WebSocketDisconnect

from beeflow_websocket.fastapi import configure_beeflow_websocket, handle_beeflow_websocket

from handwritten import HandWrittenHealth

app = FastAPI()
configure_beeflow_websocket(app, autodiscover=False)


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
