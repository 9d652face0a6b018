"""Server push on FastAPI: the application is a keyword, as on Flask; the 0.4 positional form warns."""

import pytest
from fastapi import FastAPI

from beeflow_websocket.core.event_registry import Event
from beeflow_websocket.core.testing import ActionTestClient
from beeflow_websocket.fastapi import aemit_event, configure_beeflow_websocket
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
