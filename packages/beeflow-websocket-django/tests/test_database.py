from dataclasses import dataclass, field
from uuid import uuid4

import pytest
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.urls import path

from beeflow_websocket.django import database
from beeflow_websocket.django.consumer import WebSocketConsumer

pytestmark = [pytest.mark.anyio, pytest.mark.django_db(transaction=True)]


@dataclass
class Checks:
    """A clock the throttle reads, and the times at which the stale-connection check really ran."""

    now: float = 1000.0
    made: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    async def check(self) -> None:
        self.made.append(self.now)


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> Checks:
    # Whether Django really closed a connection is not observable here; when the check ran is.
    observed = Checks()
    monkeypatch.setattr(database, "monotonic", observed.clock)
    monkeypatch.setattr(database, "aclose_old_connections", observed.check)
    monkeypatch.setattr(database, "_last_check", float("-inf"))
    return observed


async def test_frames_check_at_most_once_per_interval(checks: Checks) -> None:
    for _ in range(3):
        await database.close_stale_connections()
        checks.now += database.STALE_CHECK_INTERVAL / 2

    assert checks.made == [1000.0, 1000.0 + database.STALE_CHECK_INTERVAL]


async def test_connect_and_disconnect_always_check(checks: Checks) -> None:
    await database.close_stale_connections(now=True)
    await database.close_stale_connections(now=True)

    assert checks.made == [1000.0, 1000.0]


class User:
    is_authenticated = True
    id = 3


async def test_the_consumer_checks_on_connect_and_disconnect_not_on_every_frame(checks: Checks) -> None:
    conversation = WebsocketCommunicator(URLRouter([path("ws/", WebSocketConsumer.as_asgi())]), "/ws/")
    conversation.scope["user"] = User()
    connected, _ = await conversation.connect()
    answers = []
    for _ in range(5):
        request = {"msg_id": str(uuid4()), "req_id": str(uuid4()), "action": "health", "payload": {}}
        await conversation.send_json_to(request)
        answers.append((await conversation.receive_json_from())["event"])
    await conversation.disconnect()

    assert connected
    assert answers == ["health"] * 5
    assert len(checks.made) == 2
