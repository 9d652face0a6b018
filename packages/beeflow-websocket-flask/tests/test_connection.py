"""handle_beeflow_websocket against an in-memory stand-in for Flask-Sock's connection object.

Flask-Sock's route wrapper cannot run in-process; the adapter on a live server is tested in
tests-integration. Here the connection object is replaced by one that replays frames.
"""

import logging
import threading
from collections import deque
from collections.abc import Iterator
from uuid import uuid4

import pytest
from flask import Flask
from pydantic_core import from_json, to_json
from simple_websocket import ConnectionClosed

from beeflow_websocket.flask import configure_beeflow_websocket, get_access_token, handle_beeflow_websocket
from beeflow_websocket.flask.configuration import adapter_state


class ReplayedConnection:
    """Hands out the given frames; once ``answers`` frames were sent back, the client closes."""

    def __init__(self, *frames: str | bytes | None, answers: int) -> None:
        self.inbound = deque(frames)
        self.sent: list[str | bytes] = []
        self.answered = threading.Event()
        self.answers = answers
        self.closed_with: tuple[int | None, str | None] | None = None

    def receive(self, timeout: float | None = None) -> str | bytes | None:
        if not self.inbound:
            assert self.answered.wait(10), f"only {len(self.sent)} of {self.answers} answers were sent"
            raise ConnectionClosed(1000, "")
        return self.inbound.popleft()

    def send(self, data: str | bytes) -> None:
        self.sent.append(data)
        if len(self.sent) >= self.answers:
            self.answered.set()

    def close(self, reason: int | None = None, message: str | None = None) -> None:
        self.closed_with = (reason, message)


def envelope(action: str) -> str:
    return to_json({"msg_id": str(uuid4()), "req_id": str(uuid4()), "action": action, "payload": {}}).decode()


@pytest.fixture
def app() -> Iterator[Flask]:
    app = Flask("connection-test")
    configure_beeflow_websocket(app, problem_type_base_url="https://example.com/problems", autodiscover=False)
    yield app
    adapter_state(app).bridge.stop()


def test_frames_are_answered_in_order_until_the_client_leaves(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    connection = ReplayedConnection(envelope("health"), "nope", None, envelope("health").encode(), answers=3)

    with app.test_request_context("/api/ws/"):
        handle_beeflow_websocket(connection, user_id=3, websocket_id="conn-3")

    frames = [from_json(frame) for frame in connection.sent]
    assert [f.get("event", f.get("code")) for f in frames] == [
        "health",
        "invalid_websocket_message",
        "health",
    ]
    assert [f.get("seq") for f in frames] == [1, None, 2]
    assert frames[1]["instance"] == "/api/ws/"
    assert frames[1]["type"] == "https://example.com/problems/invalid-message"
    assert "connection conn-3 closed" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert "conn-3" not in adapter_state(app).connections


def test_the_connection_is_reachable_while_it_is_open(app: Flask) -> None:
    seen: list[bool] = []

    class Watching(ReplayedConnection):
        def receive(self, timeout: float | None = None) -> str | bytes | None:
            seen.append("watched" in adapter_state(app).connections)
            return super().receive(timeout)

    with app.test_request_context("/ws/"):
        handle_beeflow_websocket(
            Watching(envelope("health"), answers=1), user_id="auth0|1", websocket_id="watched"
        )

    assert seen == [True, True]


def test_get_access_token_reads_the_offered_subprotocols(app: Flask) -> None:
    with app.test_request_context("/ws/", headers={"Sec-WebSocket-Protocol": "access-token, abc.def"}):
        assert get_access_token() == "abc.def"
    with app.test_request_context("/ws/"):
        assert get_access_token() is None
