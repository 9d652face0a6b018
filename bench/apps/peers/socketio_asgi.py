"""python-socketio as an ASGI app under uvicorn: a ``health`` event answered by its acknowledgement."""

import socketio

sio = socketio.AsyncServer(async_mode="asgi")
app = socketio.ASGIApp(sio)


@sio.event  # type: ignore[untyped-decorator]
async def health(sid: str, data: object) -> dict[str, str]:
    return {"status": "ok"}
