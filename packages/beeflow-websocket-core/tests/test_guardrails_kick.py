"""Disconnecting a user everywhere, or one connection: from an action, or from outside any connection."""

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest

from beeflow_websocket.core.action_registry import ActionContext, ActionRegistryMeta
from beeflow_websocket.core.delivery.local import LocalConnections
from beeflow_websocket.core.event_registry import EventPluginProtocol
from beeflow_websocket.core.events.health import HealthEvent
from beeflow_websocket.core.guardrails.kick import (
    KICKED_CLOSE_CODE,
    KICKED_REASON,
    checked_close,
    disconnect_connection,
    disconnect_user,
)
from beeflow_websocket.core.payloads import WebSocketActionPayload
from beeflow_websocket.core.testing import ActionTestClient, isolated_registries

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
def _isolated() -> Iterator[None]:
    with isolated_registries():
        yield


async def closed(client: ActionTestClient) -> tuple[int, str]:
    """The code and reason the server closed ``client`` with, once it has (a second at most)."""
    async with asyncio.timeout(1):
        closed_with = await client.closed_by_server()
    assert client.dispatcher.closed
    return closed_with


@pytest.mark.parametrize("code", [1000, 3000, 4000, 4409, 4999])
def test_codes_an_application_may_send(code: int) -> None:
    assert checked_close(code, "é" * 61 + "x") == (code, "é" * 61 + "x")  # 123 bytes


@pytest.mark.parametrize("code", [999, 1001, 1011, 2999, 5000, True, 4409.0])
def test_codes_reserved_for_the_protocol_or_out_of_range_are_refused(code: object) -> None:
    with pytest.raises(ValueError, match="cannot be sent by an application"):
        checked_close(code, "")  # type: ignore[arg-type]


def test_a_reason_longer_than_a_close_frame_holds_is_refused() -> None:
    with pytest.raises(ValueError, match="at most 123 bytes"):
        checked_close(4409, "é" * 62)


async def test_every_connection_of_the_user_closes_and_nobody_else() -> None:
    connections = LocalConnections()
    first, second = (
        ActionTestClient(user_id=7, connections=connections),
        ActionTestClient(user_id=7, connections=connections),
    )
    bystander = ActionTestClient(user_id=8, connections=connections)
    for client in (first, second, bystander):
        await client.open()

    await disconnect_user(7, delivery=connections)

    assert await closed(first) == await closed(second) == (KICKED_CLOSE_CODE, KICKED_REASON)
    assert first.websocket_id not in connections
    assert second.websocket_id not in connections
    assert (await bystander.call("health")).complete
    assert bystander.closed_with is None


async def test_one_connection_closes_with_the_code_and_reason_given() -> None:
    connections = LocalConnections()
    kept, kicked = (
        ActionTestClient(user_id=7, connections=connections),
        ActionTestClient(user_id=7, connections=connections),
    )
    await kept.open()
    await kicked.open()

    await disconnect_connection(kicked.websocket_id, delivery=connections, code=4000, reason="replaced")

    assert await closed(kicked) == (4000, "replaced")
    assert (await kept.call("health")).complete


async def test_a_kick_stops_the_running_actions_of_the_connection() -> None:
    stopped = asyncio.Event()

    class Wait(metaclass=ActionRegistryMeta, name="wait"):
        async def execute(
            self, message: WebSocketActionPayload, context: ActionContext
        ) -> AsyncIterator[EventPluginProtocol]:
            try:
                await asyncio.sleep(30)
            finally:
                stopped.set()
            yield HealthEvent(recipient="websocket", recipient_id=context.websocket_id, req_id=message.req_id)

    connections = LocalConnections()
    client = ActionTestClient(user_id=7, connections=connections)
    await client.start("wait")
    await disconnect_user(7, delivery=connections)

    await closed(client)
    async with asyncio.timeout(1):
        await stopped.wait()


async def test_an_action_disconnects_another_user_and_its_own_request_ends_well() -> None:
    class Kick(metaclass=ActionRegistryMeta, name="kick"):
        async def execute(
            self, message: WebSocketActionPayload, context: ActionContext
        ) -> AsyncIterator[EventPluginProtocol]:
            user = message.payload["user"]
            assert isinstance(user, int)
            await context.disconnect_user(user, reason="removed by an admin")
            yield HealthEvent(recipient="websocket", recipient_id=context.websocket_id, req_id=message.req_id)

    connections = LocalConnections()
    admin, target = (
        ActionTestClient(user_id=1, connections=connections),
        ActionTestClient(user_id=2, connections=connections),
    )
    await target.open()

    outcome = await admin.call("kick", {"user": 2})

    assert outcome.complete
    assert await closed(target) == (KICKED_CLOSE_CODE, "removed by an admin")
    assert admin.closed_with is None


async def test_an_action_disconnects_its_own_connection() -> None:
    class Leave(metaclass=ActionRegistryMeta, name="leave"):
        async def execute(
            self, message: WebSocketActionPayload, context: ActionContext
        ) -> AsyncIterator[EventPluginProtocol]:
            await context.disconnect_connection(context.websocket_id, code=1000, reason="bye")
            nothing: tuple[EventPluginProtocol, ...] = ()
            for event in nothing:
                yield event

    client = ActionTestClient(user_id=1)
    await client.start("leave")

    assert await closed(client) == (1000, "bye")


async def test_a_bad_code_is_refused_before_anything_closes() -> None:
    connections = LocalConnections()
    client = ActionTestClient(user_id=7, connections=connections)
    await client.open()

    with pytest.raises(ValueError, match="cannot be sent"):
        await disconnect_user(7, delivery=connections, code=1006)

    assert (await client.call("health")).complete
