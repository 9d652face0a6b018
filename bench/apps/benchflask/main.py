"""Flask under gunicorn's threaded worker: /ws/ (Beeflow), /echo/, /json/ and /fanout/ (hand-written)."""

import threading
from typing import Any
from uuid import uuid4

from flask import Flask
from flask_sock import Sock

from beeflow_websocket.flask import configure_beeflow_websocket, handle_beeflow_websocket

from benchplugins import register_fanout_actions
from handwritten import HandWrittenGroup, HandWrittenHealth

app = Flask(__name__)
sock = Sock(app)
configure_beeflow_websocket(app, autodiscover=False)
register_fanout_actions()
members: set[Any] = set()
members_lock = threading.Lock()


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


@sock.route("/fanout/")
def fanout(ws) -> None:  # type: ignore[no-untyped-def]
    """A module-level set of members behind a lock; a broadcast is one send to each, in turn."""
    group = HandWrittenGroup(str(uuid4()))
    try:
        while True:
            kind, frame = group.read(ws.receive())
            if kind == "join":
                with members_lock:
                    members.add(ws)
                ws.send(frame)
                continue
            with members_lock:
                snapshot = list(members)
            for member in snapshot:
                member.send(frame)
    finally:
        with members_lock:
            members.discard(ws)
