"""The FastAPI test site, served by uvicorn: ``uvicorn fastsite.main:app``."""

import logging
from typing import Annotated

from fastapi import Depends, FastAPI, WebSocket, WebSocketException, status
from pydantic import BaseModel

from beeflow_websocket.core.guardrails.expiry import Expiry
from beeflow_websocket.fastapi import (
    adisconnect_user,
    aemit_event,
    configure_beeflow_websocket,
    emit_event,
    get_access_token,
    handle_beeflow_websocket,
)

from siteplugins.actions import Said
from siteplugins.options import site_options
from siteplugins.tokens import read_token, refresh

logging.basicConfig(level=logging.DEBUG, format="%(levelname)s %(name)s %(message)s")

app = FastAPI()
configure_beeflow_websocket(app, **site_options())


async def get_current_user(websocket: WebSocket) -> tuple[int, Expiry]:
    """Accept tokens of the form user-<id> (or user-<id>~<seconds>, expiring); refuse anything else."""
    identity = read_token(get_access_token(websocket) or "")
    if identity is None:
        raise WebSocketException(code=status.WS_1008_POLICY_VIOLATION)
    return identity


@app.websocket("/ws/")
async def websocket_endpoint(
    websocket: WebSocket, user: Annotated[tuple[int, Expiry], Depends(get_current_user)]
) -> None:
    user_id, expires_at = user
    await handle_beeflow_websocket(websocket, user_id=user_id, expires_at=expires_at, refresh=refresh)


@app.websocket("/ws/cookie/")
async def cookie_endpoint(websocket: WebSocket) -> None:
    """Authenticates by a cookie (``session=user-<id>``), as a session would: the Origin rule guards it."""
    session = websocket.cookies.get("session", "")
    if not session.startswith("user-") or not session[5:].isdigit():
        raise WebSocketException(code=status.WS_1008_POLICY_VIOLATION)
    await handle_beeflow_websocket(websocket, user_id=int(session[5:]))


class Push(BaseModel):
    recipient: str
    recipient_id: str
    text: str


@app.post("/push/", status_code=204)
async def push(body: Push) -> None:
    """Server push from an HTTP endpoint (async form)."""
    await aemit_event(
        Said(recipient=body.recipient, recipient_id=body.recipient_id, payload={"text": body.text}), app=app
    )


class Kick(BaseModel):
    user_id: int
    reason: str


@app.post("/kick/", status_code=204)
async def kick(body: Kick) -> None:
    """Close every connection of a user, in every process."""
    await adisconnect_user(body.user_id, reason=body.reason, app=app)


@app.post("/push-sync/", status_code=204)
def push_sync(body: Push) -> None:
    """Server push from a synchronous endpoint, which FastAPI runs in a worker thread."""
    emit_event(
        Said(recipient=body.recipient, recipient_id=body.recipient_id, payload={"text": body.text}), app=app
    )
