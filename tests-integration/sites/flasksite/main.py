"""The Flask test site, served by gunicorn's threaded worker: ``gunicorn flasksite.main:app``."""

import logging

from flask import Flask, abort, g, request
from flask_sock import Sock

from beeflow_websocket.flask import (
    configure_beeflow_websocket,
    disconnect_user,
    emit_event,
    get_access_token,
    handle_beeflow_websocket,
)

from siteplugins.actions import Said
from siteplugins.options import site_options
from siteplugins.tokens import read_token

logging.basicConfig(level=logging.DEBUG, format="%(levelname)s %(name)s %(message)s")

app = Flask(__name__)
sock = Sock(app)
configure_beeflow_websocket(app, **site_options())


@app.before_request
def authenticate() -> None:
    """Accept tokens of the form user-<id> on the WebSocket route; refuse the handshake otherwise."""
    if request.path == "/ws/cookie/":
        session = request.cookies.get("session", "")
        if not session.startswith("user-") or not session[5:].isdigit():
            abort(401)
        g.user_id = int(session[5:])
        return
    if request.path != "/ws/":
        return
    identity = read_token(get_access_token() or "")
    if identity is None:
        abort(401)
    g.user_id, g.expires_at = identity


@sock.route("/ws/")
def websocket_endpoint(websocket) -> None:  # type: ignore[no-untyped-def]
    handle_beeflow_websocket(websocket, user_id=g.user_id, expires_at=g.expires_at, refresh=read_token)


@sock.route("/ws/cookie/")
def cookie_endpoint(websocket) -> None:  # type: ignore[no-untyped-def]
    handle_beeflow_websocket(websocket, user_id=g.user_id)


@app.post("/kick/")
def kick() -> tuple[str, int]:
    """Close every connection of a user, in every process."""
    body = request.get_json()
    disconnect_user(body["user_id"], reason=body["reason"])
    return "", 204


@app.post("/push/")
def push() -> tuple[str, int]:
    """Server push from a Flask view (the sync form)."""
    body = request.get_json()
    emit_event(
        Said(recipient=body["recipient"], recipient_id=body["recipient_id"], payload={"text": body["text"]})
    )
    return "", 204
