"""Server push on Flask: from a view's thread, or awaited from another event loop, onto the
application's loop, where its connections live."""

import asyncio
from collections.abc import Iterator

import pytest
from flask import Flask

from beeflow_websocket.core.event_registry import Event
from beeflow_websocket.core.problems import InvalidGroupName
from beeflow_websocket.core.testing import ActionTestClient
from beeflow_websocket.flask import (
    aemit_event,
    configure_beeflow_websocket,
    disconnect_connection,
    disconnect_user,
    emit_event,
)
from beeflow_websocket.flask.configuration import adapter_state


class Announcement(Event, name="flask.announcement"):
    pass


@pytest.fixture
def app() -> Iterator[Flask]:
    app = Flask("push-test")
    configure_beeflow_websocket(app, autodiscover=False)
    yield app
    adapter_state(app).bridge.stop()


def tab_of(app: Flask, user_id: int) -> ActionTestClient:
    """A connection of ``user_id``, open on the application's loop."""
    bridge = adapter_state(app).bridge

    async def opened() -> ActionTestClient:
        tab = ActionTestClient(user_id=user_id, connections=adapter_state(app).connections)
        await tab.open()
        return tab

    return bridge.run(opened())


def frames_of(app: Flask, tab: ActionTestClient) -> list[tuple[object, object]]:
    adapter_state(app).bridge.run(tab.settle())
    return [(frame["event"], frame["payload"]) for frame in tab.frames]


def test_a_push_from_a_view_reaches_every_connection_of_the_user(app: Flask) -> None:
    first, second, other = tab_of(app, 7), tab_of(app, 7), tab_of(app, 8)

    with app.app_context():
        emit_event(Announcement(recipient="user", recipient_id=7, payload={"text": "hi"}))

    assert frames_of(app, first) == frames_of(app, second) == [("flask.announcement", {"text": "hi"})]
    assert frames_of(app, other) == []


def test_an_awaited_push_from_another_event_loop_arrives(app: Flask) -> None:
    tab = tab_of(app, 7)

    asyncio.run(aemit_event(Announcement(recipient="user", recipient_id=7, payload={"n": 1}), app=app))

    assert frames_of(app, tab) == [("flask.announcement", {"n": 1})]


def test_a_push_to_a_bad_group_raises_in_the_caller(app: Flask) -> None:
    with pytest.raises(InvalidGroupName):
        emit_event(Announcement(recipient="group", recipient_id="~user:7", payload={}), app=app)


def closed_with(app: Flask, tab: ActionTestClient) -> tuple[int, str] | None:
    async def after_the_close() -> tuple[int, str] | None:
        for _ in range(100):
            if tab.closed_with is not None:
                break
            await asyncio.sleep(0.01)
        return tab.closed_with

    return adapter_state(app).bridge.run(after_the_close())


def test_a_user_is_disconnected_from_a_view(app: Flask) -> None:
    first, second, other = tab_of(app, 7), tab_of(app, 7), tab_of(app, 8)

    with app.app_context():
        disconnect_user(7, reason="signed out everywhere")

    assert closed_with(app, first) == closed_with(app, second) == (4409, "signed out everywhere")
    assert other.closed_with is None


def test_one_connection_is_disconnected_by_its_id(app: Flask) -> None:
    kept, kicked = tab_of(app, 7), tab_of(app, 7)

    disconnect_connection(kicked.websocket_id, code=4000, reason="replaced", app=app)

    assert closed_with(app, kicked) == (4000, "replaced")
    assert kept.closed_with is None
