"""Flask under gunicorn's threaded worker: /ws/ (Beeflow), /echo/, /json/ (hand-written)."""

from uuid import uuid4

from flask import Flask
from flask_sock import Sock

from beeflow_websocket.flask import configure_beeflow_websocket, handle_beeflow_websocket

from handwritten import HandWrittenHealth

app = Flask(__name__)
sock = Sock(app)
configure_beeflow_websocket(app, autodiscover=False)


@sock.route("/ws/")
def beeflow(ws) -> None:  # type: ignore[no-untyped-def]
    handle_beeflow_websocket(ws, user_id=1)


@sock.route("/echo/")
def echo(ws) -> None:  # type: ignore[no-untyped-def]
    while True:
        ws.send(ws.receive())


@sock.route("/json/")
def handwritten(ws) -> None:  # type: ignore[no-untyped-def]
    health = HandWrittenHealth(str(uuid4()))
    while True:
        ws.send(health.answer(ws.receive()))
