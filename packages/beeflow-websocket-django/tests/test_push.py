from typing import Any
from uuid import uuid4

import pytest
from asgiref.sync import sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.urls import path

from beeflow_websocket.core.event_registry import Event
from beeflow_websocket.django.consumer import WebSocketConsumer
from beeflow_websocket.django.push import aemit_event, emit_event

# Channels closes stale database connections on every disconnect, so consumers touch the database.
pytestmark = [pytest.mark.anyio, pytest.mark.django_db(transaction=True)]


class Announcement(Event, name="announcement"):
    pass


class User:
    is_authenticated = True

    def __init__(self, user_id: int) -> None:
        self.id = user_id


def communicator(user_id: int) -> WebsocketCommunicator:
    conversation = WebsocketCommunicator(URLRouter([path("ws/", WebSocketConsumer.as_asgi())]), "/ws/")
    conversation.scope["user"] = User(user_id)
    return conversation


def envelope(action: str) -> dict[str, Any]:
    return {"msg_id": str(uuid4()), "req_id": str(uuid4()), "action": action, "payload": {}}


async def test_a_push_reaches_every_connection_of_a_user_and_nobody_else() -> None:
    tab_1, tab_2, other = communicator(7), communicator(7), communicator(8)
    for conversation in (tab_1, tab_2, other):
        await conversation.connect()

    await aemit_event(Announcement(recipient="user", recipient_id=7, payload={"text": "async"}))
    await sync_to_async(emit_event)(
        Announcement(recipient="user", recipient_id="7", payload={"text": "sync"})
    )
    received = [[(await c.receive_json_from())["payload"]["text"] for _ in range(2)] for c in (tab_1, tab_2)]
    nothing = await other.receive_nothing()
    for conversation in (tab_1, tab_2, other):
        await conversation.disconnect()

    assert received == [["async", "sync"], ["async", "sync"]]
    assert nothing
