"""The Flask test site, served by gunicorn's threaded worker: ``gunicorn flasksite.main:app``."""

import logging
import os

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
from siteplugins.tokens import read_token

logging.basicConfig(level=logging.DEBUG, format="%(levelname)s %(name)s %(message)s")

app = Flask(__name__)
sock = Sock(app)
configure_beeflow_websocket(
    app,
    problem_type_base_url="https://example.com/problems/websocket",
    redis_url=os.environ.get("SITE_REDIS_URL"),
    max_outbound_messages=int(os.environ.get("SITE_MAX_OUTBOUND", "256")),
    rate_limit=os.environ.get("SITE_RATE_LIMIT"),
    user_rate_limit=os.environ.get("SITE_USER_RATE_LIMIT"),
    rate_limit_budget=os.environ.get("SITE_RATE_LIMIT_BUDGET", "60/min"),
    # Short, so that the tests of expiring tokens take a second, not a minute.
    token_expiry_notice=0.5,
    token_expiry_grace=0.5,
    # Room for the 200 events a resume test misses; the tests that outrun it publish more.
    history_size=int(os.environ.get("SITE_HISTORY_SIZE", "300")),
    history_streams=tuple(os.environ.get("SITE_HISTORY_STREAMS", "user,group").split(",")),  # type: ignore[arg-type]
    asyncapi={"title": "Test site", "version": "0.1.0"},
)


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
