"""One routing path for actions and pushes (beeflow_websocket.core.routing)."""

from collections.abc import AsyncIterator, Collection

import pytest

from beeflow_websocket.core.action_registry import ActionContext, ActionRegistryMeta
from beeflow_websocket.core.event_registry import Event, EventPluginProtocol
from beeflow_websocket.core.groups import Group
from beeflow_websocket.core.payloads import WebSocketActionPayload
from beeflow_websocket.core.recipient_registry import RecipientRegistryMeta
from beeflow_websocket.core.routing import route
from beeflow_websocket.core.testing import ActionTestClient
from beeflow_websocket.core.transport import OutboundEvent

pytestmark = pytest.mark.anyio


class Note(Event, name="routing.note"):
    pass


class Recorder:
    """A delivery engine that records what it was asked to do."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []

    async def send_to_connections(self, websocket_ids: Collection[str], event: OutboundEvent) -> None:
        self.calls.append(("connections", list(websocket_ids)))

    async def send_to_group(self, group: str, event: OutboundEvent) -> OutboundEvent:
        self.calls.append(("group", group))
        return event

    async def add_to_group(self, group: str, websocket_id: str) -> None:
        raise AssertionError("not used by routing")

    async def remove_from_group(self, group: str, websocket_id: str) -> None:
        raise AssertionError("not used by routing")

    async def close_connections(self, websocket_ids: Collection[str], code: int, reason: str) -> None:
        raise AssertionError("not used by routing")

    async def close_group(self, group: str, code: int, reason: str) -> None:
        raise AssertionError("not used by routing")


class Team(metaclass=RecipientRegistryMeta, name="routing.team"):
    async def resolve(self, recipient_id: str) -> Collection[str | Group]:
        return ["me", "you", Group("team"), "you"]


async def test_the_asking_connection_gets_its_own_event_directly_and_the_rest_go_through_delivery() -> None:
    delivery, own = Recorder(), []

    async def take(event: OutboundEvent) -> None:
        own.append(event)

    sent = await route(
        Note(recipient="routing.team", recipient_id="t", payload={}), delivery, own_id="me", own=take
    )

    assert own == [sent]
    assert delivery.calls == [("connections", ["you"]), ("group", "team")]


async def test_a_push_has_no_own_connection_and_reaches_everyone_through_delivery() -> None:
    delivery = Recorder()

    await route(Note(recipient="routing.team", recipient_id="t", payload={}), delivery)

    assert delivery.calls == [("connections", ["me", "you"]), ("group", "team")]


async def test_everyone_but_the_asker_leaves_out_only_the_asking_connection() -> None:
    class ToOthers(metaclass=ActionRegistryMeta, name="routing.to-others"):
        async def execute(
            self, message: WebSocketActionPayload, context: ActionContext
        ) -> AsyncIterator[EventPluginProtocol]:
            await context.join("room")
            for recipient, recipient_id in (("user", "7"), ("group", "room")):
                yield Note(
                    recipient=recipient,
                    recipient_id=recipient_id,
                    req_id=message.req_id,
                    payload={"to": recipient},
                    exclude_current=True,
                )

    asker = ActionTestClient(user_id=7)
    other_tab = ActionTestClient(user_id=7, connections=asker.connections)
    roommate = ActionTestClient(user_id=8, connections=asker.connections)
    for client in (other_tab, roommate):
        await client.open()
    await roommate.dispatcher.join("room")
    await other_tab.dispatcher.join("room")

    await asker.send("routing.to-others")
    for client in (other_tab, roommate):
        await client.settle()

    # Nothing of the events themselves: only the request's end.
    assert [frame["event"] for frame in asker.frames] == ["beeflow.complete"]
    assert [frame["payload"] for frame in other_tab.frames] == [{"to": "user"}, {"to": "group"}]
    assert [frame["payload"] for frame in roommate.frames] == [{"to": "group"}]
