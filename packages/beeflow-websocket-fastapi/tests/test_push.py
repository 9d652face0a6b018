"""Server push on FastAPI: the application is a keyword, as on Flask; the 0.4 positional form warns."""

from functools import partial

import anyio
import pytest
from fastapi import FastAPI

from beeflow_websocket.core.event_registry import Event
from beeflow_websocket.core.testing import ActionTestClient
from beeflow_websocket.fastapi import (
    adisconnect_connection,
    adisconnect_user,
    aemit_event,
    configure_beeflow_websocket,
    disconnect_connection,
    disconnect_user,
)
from beeflow_websocket.fastapi.configuration import adapter_state

pytestmark = pytest.mark.anyio


class Announcement(Event, name="fastapi.announcement"):
    pass


async def test_a_push_reaches_every_connection_of_the_user() -> None:
    app = FastAPI()
    configure_beeflow_websocket(app, autodiscover=False)
    tab = ActionTestClient(user_id=7, connections=adapter_state(app).connections)
    await tab.open()

    await aemit_event(Announcement(recipient="user", recipient_id=7, payload={"text": "hi"}), app=app)
    await tab.settle()

    assert [(frame["event"], frame["payload"]) for frame in tab.frames] == [
        ("fastapi.announcement", {"text": "hi"})
    ]


async def test_the_positional_form_of_0_4_still_works_and_warns() -> None:
    app = FastAPI()
    configure_beeflow_websocket(app, autodiscover=False)
    tab = ActionTestClient(user_id=7, connections=adapter_state(app).connections)
    await tab.open()

    with pytest.warns(DeprecationWarning, match=r"aemit_event\(event, app=app\)"):
        await aemit_event(app, Announcement(recipient="user", recipient_id=7, payload={}))
    await tab.settle()

    assert len(tab.frames) == 1


async def test_a_push_without_the_application_says_how_to_pass_it() -> None:
    with pytest.raises(TypeError, match=r"aemit_event\(event, app=app\)"):
        await aemit_event(Announcement(recipient="user", recipient_id=7, payload={}))  # type: ignore[call-overload]


async def closed_with(tab: ActionTestClient) -> tuple[int, str] | None:
    with anyio.move_on_after(1):
        while tab.closed_with is None:  # noqa: ASYNC110
            await anyio.sleep(0.001)
    return tab.closed_with


async def test_a_user_is_disconnected_everywhere_and_one_connection_by_its_id() -> None:
    app = FastAPI()
    configure_beeflow_websocket(app, autodiscover=False)
    connections = adapter_state(app).connections
    first, second, other = (ActionTestClient(user_id=u, connections=connections) for u in (7, 7, 8))
    for tab in (first, second, other):
        await tab.open()

    await adisconnect_user(7, app=app, reason="signed out everywhere")
    await adisconnect_connection(other.websocket_id, app=app, code=4000, reason="replaced")

    assert await closed_with(first) == await closed_with(second) == (4409, "signed out everywhere")
    assert await closed_with(other) == (4000, "replaced")


async def test_a_def_endpoint_disconnects_from_a_worker_thread() -> None:
    app = FastAPI()
    configure_beeflow_websocket(app, autodiscover=False)
    connections = adapter_state(app).connections
    first, second = (ActionTestClient(user_id=7, connections=connections) for _ in range(2))
    for tab in (first, second):
        await tab.open()

    await anyio.to_thread.run_sync(partial(disconnect_user, 7, app=app))
    await anyio.to_thread.run_sync(partial(disconnect_connection, "nobody", app=app))

    assert await closed_with(first) == await closed_with(second) == (4409, "disconnected by the server")
