import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from asgiref.sync import sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.test import override_settings
from django.urls import path

from beeflow_websocket.core.event_registry import Event
from beeflow_websocket.django.consumer import WebSocketConsumer
from beeflow_websocket.django.engine import redis_state
from beeflow_websocket.django.push import (
    adisconnect_user,
    aemit_event,
    disconnect_connection,
    emit_event,
)

from serving import free_port, redis_command, start_server

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


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    server = start_server("redis", redis_command(port), tmp_path / "redis.log", port)
    yield f"redis://127.0.0.1:{port}/0"
    server.stop()


async def test_with_the_redis_engine_a_push_from_any_loop_reaches_the_user(redis_url: str) -> None:
    with override_settings(BEEFLOW_WEBSOCKET_REDIS_URL=redis_url):
        state = redis_state()
        assert state is not None
        assert state.redis is not None
        tab = communicator(7)
        await tab.connect()
        try:
            # On the engine's own loop; then from a thread with a loop of its own, as a task's.
            await aemit_event(Announcement(recipient="user", recipient_id=7, payload={"text": "here"}))
            await asyncio.to_thread(
                emit_event, Announcement(recipient="user", recipient_id=7, payload={"text": "task"})
            )
            received = [(await tab.receive_json_from(timeout=5))["payload"]["text"] for _ in range(2)]
        finally:
            await tab.disconnect()
            await state.redis.close()

    assert received == ["here", "task"]
    assert state.connections.members("~user:7") == frozenset()


async def closed_with(conversation: WebsocketCommunicator) -> tuple[int, str]:
    message = await conversation.receive_output(timeout=2)
    assert message["type"] == "websocket.close"
    return message["code"], message.get("reason", "")


async def test_a_user_is_disconnected_everywhere_and_one_connection_by_its_name() -> None:
    tab_1, tab_2, other = communicator(7), communicator(7), communicator(8)
    for conversation in (tab_1, tab_2, other):
        await conversation.connect()

    await adisconnect_user(7, reason="signed out everywhere")
    kicked = [await closed_with(tab_1), await closed_with(tab_2)]
    await other.send_json_to(envelope("health"))
    answer = await other.receive_json_from()
    await other.disconnect()

    assert kicked == [(4409, "signed out everywhere")] * 2
    assert answer["event"] == "health"


async def test_a_connection_is_disconnected_by_id_from_synchronous_code() -> None:
    kept, kicked = communicator(7), communicator(7)
    for conversation in (kept, kicked):
        await conversation.connect()
    await kicked.send_json_to(envelope("health"))
    websocket_id = (await kicked.receive_json_from())["recipient_id"]  # its channel name

    await sync_to_async(disconnect_connection)(websocket_id, code=4000, reason="replaced")
    closed = await closed_with(kicked)
    nothing = await kept.receive_nothing()
    await kept.disconnect()

    assert closed == (4000, "replaced")
    assert nothing
