"""Beeflow WebSocket for Flask: serve the protocol on a Flask-Sock route.

Routing and authentication stay in the application::

    app = Flask(__name__)
    sock = Sock(app)
    configure_beeflow_websocket(app, problem_type_base_url="https://example.com/problems/websocket")

    @sock.route("/ws/")
    def websocket_endpoint(websocket: FlaskSockWebSocket) -> None:
        handle_beeflow_websocket(websocket, user_id=g.user.id)
"""

from beeflow_websocket.flask._transport import FlaskSockWebSocket
from beeflow_websocket.flask.configuration import configure_beeflow_websocket
from beeflow_websocket.flask.connection import get_access_token, handle_beeflow_websocket
from beeflow_websocket.flask.push import aemit_event, disconnect_connection, disconnect_user, emit_event

__all__ = [
    "FlaskSockWebSocket",
    "aemit_event",
    "configure_beeflow_websocket",
    "disconnect_connection",
    "disconnect_user",
    "emit_event",
    "get_access_token",
    "handle_beeflow_websocket",
]
