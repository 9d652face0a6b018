import logging
from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

import pytest
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser
from django.test import override_settings
from django.urls import path

from beeflow_websocket.core.action_registry import ActionContext, ActionRegistryMeta
from beeflow_websocket.core.event_registry import Event
from beeflow_websocket.core.payloads import WebSocketActionPayload
from beeflow_websocket.django.consumer import WebSocketConsumer

# Channels closes stale database connections on every disconnect, so consumers touch the database.
pytestmark = [pytest.mark.anyio, pytest.mark.django_db(transaction=True)]


class User:
    """An authenticated user as the consumer reads it: is_authenticated and id."""

    is_authenticated = True

    def __init__(self, user_id: int) -> None:
        self.id = user_id


def application() -> Any:
    return URLRouter([path("api/ws/", WebSocketConsumer.as_asgi())])


def communicator(user: object = None, subprotocols: list[str] | None = None) -> WebsocketCommunicator:
    conversation = WebsocketCommunicator(application(), "/api/ws/", subprotocols=subprotocols)
    if user is not None:
        conversation.scope["user"] = user
    return conversation


def envelope(action: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"msg_id": str(uuid4()), "req_id": str(uuid4()), "action": action, "payload": payload or {}}


async def test_an_authenticated_user_gets_health_and_the_marker_subprotocol() -> None:
    conversation = communicator(User(7), subprotocols=["access-token", "secret"])
    connected, subprotocol = await conversation.connect()
    request = envelope("health")
    await conversation.send_json_to(request)
    frame = await conversation.receive_json_from()
    await conversation.disconnect()

    assert (connected, subprotocol) == (True, "access-token")
    assert (frame["event"], frame["req_id"], frame["seq"], frame["payload"]) == (
        "health",
        request["req_id"],
        1,
        {"status": "ok"},
    )
    assert frame["recipient_id"].startswith("specific.")


async def test_no_subprotocol_is_selected_when_none_was_offered() -> None:
    conversation = communicator(User(7))
    connected, subprotocol = await conversation.connect()
    await conversation.disconnect()

    assert (connected, subprotocol) == (True, None)


@pytest.mark.parametrize("user", [AnonymousUser(), None], ids=["anonymous", "missing"])
async def test_anyone_else_is_refused_at_the_handshake(user: object) -> None:
    conversation = communicator(user)
    connected, _ = await conversation.connect()

    assert connected is False


async def test_bad_input_uses_the_configured_problem_type_and_the_path() -> None:
    with override_settings(BEEFLOW_WEBSOCKET_PROBLEM_TYPE_BASE_URL="https://example.com/problems/websocket"):
        conversation = communicator(User(1))
        await conversation.connect()
        await conversation.send_to(text_data="nope")
        error = await conversation.receive_json_from()
        await conversation.send_to(bytes_data=b'{"req_id": 1}')
        binary_error = await conversation.receive_json_from()
        await conversation.disconnect()

    assert error["type"] == "https://example.com/problems/websocket/invalid-message"
    assert error["instance"] == "/api/ws/"
    assert binary_error["code"] == "invalid_websocket_message"


async def test_autodiscovered_actions_reach_another_connection_through_the_layer() -> None:
    alice, bob = communicator(User(1)), communicator(User(2))
    await alice.connect()
    await bob.connect()
    await bob.send_json_to(envelope("health"))
    bob_id = (await bob.receive_json_from())["recipient_id"]

    await alice.send_json_to(envelope("say", {"to": bob_id, "text": "hi", "times": 2}))
    received = [await bob.receive_json_from() for _ in range(2)]
    assert await alice.receive_nothing()
    await alice.disconnect()
    await bob.disconnect()

    assert [(f["seq"], f["payload"]) for f in received] == [
        (2, {"text": "hi", "n": 1, "from": "1"}),
        (3, {"text": "hi", "n": 2, "from": "1"}),
    ]


async def test_nothing_is_lost_when_a_connection_pipelines_many_requests() -> None:
    conversation = communicator(User(1))
    await conversation.connect()
    requests = [envelope("say", {"times": 3, "text": str(n)}) for n in range(100)]
    for request in requests:
        await conversation.send_json_to(request)
    frames = [await conversation.receive_json_from(timeout=5) for _ in range(300)]
    await conversation.disconnect()

    assert [f["seq"] for f in frames] == list(range(1, 301))
    assert [(f["req_id"], f["payload"]["n"]) for f in frames] == [
        (request["req_id"], n) for request in requests for n in (1, 2, 3)
    ]


async def test_without_a_channel_layer_only_other_connections_are_unreachable(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="beeflow_websocket.django.delivery")
    with override_settings(CHANNEL_LAYERS={}):
        conversation = communicator(User(1))
        await conversation.connect()
        await conversation.send_json_to(envelope("say", {"to": "specific.elsewhere!x", "text": "lost"}))
        await conversation.send_json_to(envelope("say", {"text": "kept"}))
        frame = await conversation.receive_json_from()
        await conversation.disconnect()

    assert frame["payload"]["text"] == "kept"
    assert "no channel layer: send for connection specific.elsewhere!x skipped" in caplog.text


async def test_a_full_channel_drops_the_event_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    layers = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 1}}}
    with override_settings(CHANNEL_LAYERS=layers):
        conversation = communicator(User(1))
        await conversation.connect()
        await conversation.send_json_to(envelope("say", {"to": "specific.idle!x", "times": 2}))
        await conversation.send_json_to(envelope("health"))
        frame = await conversation.receive_json_from()
        await conversation.disconnect()

    assert frame["event"] == "health"
    assert "dropped a message (send) for connection specific.idle!x: its channel is full" in caplog.text


async def test_a_frame_after_a_refused_handshake_is_ignored() -> None:
    consumer = WebSocketConsumer()

    await consumer.receive(text_data="{}")
    await consumer.beeflow_event({"type": "beeflow.event", "req_id": None, "body": "{}"})
    await consumer.beeflow_close({"type": "beeflow.close", "code": 4409, "reason": ""})
    await consumer.disconnect(1000)

    assert consumer.dispatcher is None


async def test_the_connection_id_is_the_channel_name() -> None:
    seen: list[str] = []

    class Where(metaclass=ActionRegistryMeta, name="where"):
        async def execute(
            self, message: WebSocketActionPayload, context: ActionContext
        ) -> AsyncIterator[Event]:
            seen.append(context.websocket_id)
            nothing: tuple[Event, ...] = ()
            for event in nothing:
                yield event

    conversation = communicator(User(1))
    await conversation.connect()
    await conversation.send_json_to(envelope("where"))
    await conversation.send_json_to(envelope("health"))
    frame = await conversation.receive_json_from()
    await conversation.disconnect()

    assert seen == [frame["recipient_id"]]
