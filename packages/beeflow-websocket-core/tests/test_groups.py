"""Users and groups: the built-in recipients, joining and leaving through the context, server push."""

from collections.abc import AsyncIterator, Collection

import pytest
from pydantic import JsonValue

from beeflow_websocket.core.action_registry import ActionContext, ActionRegistryMeta
from beeflow_websocket.core.delivery.local import LocalConnections
from beeflow_websocket.core.event_registry import Event
from beeflow_websocket.core.groups import Group, checked_group_name, user_group
from beeflow_websocket.core.payloads import WebSocketActionPayload
from beeflow_websocket.core.problems import DeliveryUnavailable, InvalidGroupName
from beeflow_websocket.core.push import emit, resolve_recipient
from beeflow_websocket.core.recipients.group import GroupRecipient
from beeflow_websocket.core.recipients.user import UserRecipient
from beeflow_websocket.core.testing import ActionTestClient
from beeflow_websocket.core.transport import OutboundEvent

pytestmark = pytest.mark.anyio


class Said(Event, name="said"):
    pass


@pytest.fixture(autouse=True)
def room_actions() -> None:
    class Join(metaclass=ActionRegistryMeta, name="join"):
        async def execute(
            self, message: WebSocketActionPayload, context: ActionContext
        ) -> AsyncIterator[Said]:
            await context.join(str(message.payload["room"]))
            yield Said(
                recipient="websocket",
                recipient_id=context.websocket_id,
                payload={"groups": list[JsonValue](sorted(context.groups))},
            )

    class Leave(metaclass=ActionRegistryMeta, name="leave"):
        async def execute(
            self, message: WebSocketActionPayload, context: ActionContext
        ) -> AsyncIterator[Said]:
            await context.leave(str(message.payload["room"]))
            yield Said(
                recipient="websocket",
                recipient_id=context.websocket_id,
                payload={"groups": list[JsonValue](sorted(context.groups))},
            )

    class Say(metaclass=ActionRegistryMeta, name="say"):
        async def execute(
            self, message: WebSocketActionPayload, context: ActionContext
        ) -> AsyncIterator[Said]:
            yield Said(
                recipient=str(message.payload["recipient"]),
                recipient_id=str(message.payload["to"]),
                req_id=message.req_id,
                payload={"text": str(message.payload.get("text", ""))},
            )


def texts(client: ActionTestClient) -> list[object]:
    found: list[object] = []
    for frame in client.frames:
        payload = frame.get("payload")
        if isinstance(payload, dict) and "text" in payload:
            found.append(payload["text"])
    return found


@pytest.mark.parametrize("name", ["room:42", "team.red", "a", "x" * 100, "A-Z_0-9:.-"])
def test_allowed_group_names(name: str) -> None:
    assert checked_group_name(name) == name


@pytest.mark.parametrize("name", ["", "x" * 101, "room 42", "~user:1", "ząb", "a/b", 42, None])
def test_group_names_outside_the_alphabet_are_refused(name: object) -> None:
    with pytest.raises(InvalidGroupName, match="is not a group name"):
        checked_group_name(name)


async def test_the_built_in_recipients_resolve_to_groups() -> None:
    assert list(await UserRecipient().resolve("7")) == [Group("~user:7")]
    assert list(await GroupRecipient().resolve("room:1")) == [Group("room:1")]
    with pytest.raises(InvalidGroupName):
        await GroupRecipient().resolve("~user:7")
    assert user_group(7) == "~user:7"


async def test_an_event_for_a_user_reaches_every_connection_of_that_user() -> None:
    alice_tab_1 = ActionTestClient(user_id=1)
    alice_tab_2 = ActionTestClient(user_id=1, connections=alice_tab_1.connections)
    bob = ActionTestClient(user_id=2, connections=alice_tab_1.connections)
    for client in (alice_tab_1, alice_tab_2, bob):
        await client.open()

    await bob.send("say", {"recipient": "user", "to": "1", "text": "hi alice"})
    await alice_tab_1.settle()
    await alice_tab_2.settle()

    assert texts(alice_tab_1) == texts(alice_tab_2) == ["hi alice"]
    assert texts(bob) == []
    assert alice_tab_1.frames[0]["seq"] == alice_tab_2.frames[0]["seq"] == 1


async def test_join_broadcast_leave() -> None:
    alice = ActionTestClient(user_id=1)
    bob = ActionTestClient(user_id=2, connections=alice.connections)
    carol = ActionTestClient(user_id=3, connections=alice.connections)

    assert (await alice.request("join", {"room": "room:42"}))[0]["payload"] == {"groups": ["room:42"]}
    await bob.request("join", {"room": "room:42"})
    await carol.request("health")
    await carol.send("say", {"recipient": "group", "to": "room:42", "text": "first"})
    await bob.request("leave", {"room": "room:42"})
    await carol.send("say", {"recipient": "group", "to": "room:42", "text": "second"})
    await alice.settle()
    await bob.settle()

    assert texts(alice) == ["first", "second"]
    assert texts(bob) == ["first"]
    assert [frame["seq"] for frame in alice.frames] == [1, 2, 3]
    assert alice.dispatcher.groups == {"room:42"}


async def test_a_closed_connection_leaves_all_its_groups() -> None:
    alice = ActionTestClient(user_id=1)
    await alice.request("join", {"room": "room:1"})
    await alice.request("join", {"room": "room:2"})

    await alice.close()

    assert alice.connections.members("room:1") == frozenset()
    assert alice.connections.members("room:2") == frozenset()
    assert alice.connections.members("~user:1") == frozenset()


async def test_an_invalid_group_name_is_422_and_the_connection_survives() -> None:
    client = ActionTestClient()

    await client.send("join", {"room": "room 42"})
    await client.send("say", {"recipient": "group", "to": "~user:1", "text": "spoof"})
    answer = await client.request("health")

    assert [(f["status"], f["code"]) for f in client.frames[:2]] == [(422, "invalid_group_name")] * 2
    assert answer[0]["event"] == "health"


def test_a_detached_context_has_no_groups() -> None:
    context = ActionContext(websocket_id="c", user_id=1)

    with pytest.raises(RuntimeError, match="belongs to no connection"):
        _ = context.groups


class Unavailable(LocalConnections):
    """An engine whose cross-connection delivery is down; the connection itself still works."""

    async def send_to_group(self, group: str, event: OutboundEvent) -> OutboundEvent:
        if not group.startswith("~user:"):
            raise DeliveryUnavailable()
        return await super().send_to_group(group, event)

    async def send_to_connections(self, websocket_ids: Collection[str], event: OutboundEvent) -> None:
        raise DeliveryUnavailable()


async def test_an_event_the_engine_cannot_take_is_a_503_and_the_action_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Both(metaclass=ActionRegistryMeta, name="both"):
        async def execute(
            self, message: WebSocketActionPayload, context: ActionContext
        ) -> AsyncIterator[Said]:
            yield Said(
                recipient="group", recipient_id="room:1", req_id=message.req_id, payload={"text": "lost"}
            )
            yield Said(
                recipient="websocket",
                recipient_id=context.websocket_id,
                req_id=message.req_id,
                payload={"text": "kept"},
            )

    client = ActionTestClient(connections=Unavailable())
    req_id = await client.send("both")

    unavailable, kept = client.frames
    assert (unavailable["status"], unavailable["code"], unavailable["req_id"]) == (
        503,
        "delivery_unavailable",
        str(req_id),
    )
    assert kept["payload"] == {"text": "kept"}
    assert "event 'said' of action request" in caplog.text


async def test_emit_pushes_from_outside_any_connection() -> None:
    alice = ActionTestClient(user_id=1)
    await alice.request("join", {"room": "news"})

    sent = await emit(
        Said(recipient="group", recipient_id="news", payload={"text": "pushed"}), delivery=alice.connections
    )
    await emit(
        Said(recipient="user", recipient_id="1", payload={"text": "to you"}), delivery=alice.connections
    )
    await emit(
        Said(recipient="websocket", recipient_id=alice.websocket_id, payload={"text": "direct"}),
        delivery=alice.connections,
    )
    await alice.settle()

    assert texts(alice) == ["pushed", "to you", "direct"]
    assert sent.req_id is None
    assert "req_id" not in alice.frames[-1]


async def test_resolve_recipient_lists_each_connection_and_group_once() -> None:
    from beeflow_websocket.core.recipient_registry import RecipientRegistryMeta

    class Mixed(metaclass=RecipientRegistryMeta, name="mixed"):
        async def resolve(self, recipient_id: str) -> Collection[str | Group]:
            return ["a", Group("g"), "a", "b", Group("g")]

    event = Said(recipient="mixed", recipient_id="x", payload={})

    assert await resolve_recipient(event) == (["a", "b"], ["g"])
