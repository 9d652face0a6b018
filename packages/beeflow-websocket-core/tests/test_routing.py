"""One routing path for actions and pushes (beeflow_websocket.core.routing)."""

from collections.abc import Collection

import pytest

from beeflow_websocket.core.event_registry import Event
from beeflow_websocket.core.groups import Group
from beeflow_websocket.core.recipient_registry import RecipientRegistryMeta
from beeflow_websocket.core.routing import route
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

    async def send_to_group(self, group: str, event: OutboundEvent) -> None:
        self.calls.append(("group", group))

    async def add_to_group(self, group: str, websocket_id: str) -> None:
        raise AssertionError("not used by routing")

    async def remove_from_group(self, group: str, websocket_id: str) -> None:
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
