"""The Flask test site, served by gunicorn's threaded worker: ``gunicorn flasksite.main:app``."""

import logging

from flask import Flask, abort, g, request
from flask_sock import Sock

from beeflow_websocket.flask import configure_beeflow_websocket, get_access_token, handle_beeflow_websocket

logging.basicConfig(level=logging.DEBUG, format="%(levelname)s %(name)s %(message)s")

app = Flask(__name__)
sock = Sock(app)
configure_beeflow_websocket(app, problem_type_base_url="https://example.com/problems/websocket")


@app.before_request
def authenticate() -> None:
    """Accept tokens of the form user-<id> on the WebSocket route; refuse the handshake otherwise."""
    if request.path != "/ws/":
        return
    token = get_access_token() or ""
    if not token.startswith("user-") or not token[5:].isdigit():
        abort(401)
    g.user_id = int(token[5:])


@sock.route("/ws/")
def websocket_endpoint(websocket) -> None:  # type: ignore[no-untyped-def]
    handle_beeflow_websocket(websocket, user_id=g.user_id)
