"""Stream positions on v1 frames, and beeflow.resume, over one process's history."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from beeflow_websocket.core.action_registry import ActionContext, ActionRegistryMeta
from beeflow_websocket.core.delivery.local import LocalConnections
from beeflow_websocket.core.event_registry import Event
from beeflow_websocket.core.guardrails.kick import disconnect_user
from beeflow_websocket.core.history.memory import MemoryHistory
from beeflow_websocket.core.history.positions import HistoryPolicy
from beeflow_websocket.core.payloads import WebSocketActionPayload
from beeflow_websocket.core.push import emit
from beeflow_websocket.core.settings import DispatcherSettings
from beeflow_websocket.core.testing import ActionTestClient

pytestmark = pytest.mark.anyio


class Note(Event, name="resume.note"):
    pass


def kept(size: int = 10, ttl: float = 60.0) -> LocalConnections:
    return LocalConnections(MemoryHistory(HistoryPolicy(size, ttl)))


async def push(connections: LocalConnections, number: int, user: str = "7") -> None:
    await emit(Note(recipient="user", recipient_id=user, payload={"n": number}), delivery=connections)


@asynccontextmanager
async def opened(*clients: ActionTestClient) -> AsyncIterator[None]:
    for client in clients:
        await client.open()
    try:
        yield
    finally:
        for client in clients:
            await client.close()


async def away(connections: LocalConnections, missed: range) -> dict[str, Any]:
    """A client of user 7 receives one event and goes; ``missed`` are pushed: its last position."""
    first = ActionTestClient(user_id=7, connections=connections)
    async with opened(first):
        await push(connections, 0)
        await first.dispatcher.wait_idle()
    for number in missed:
        await push(connections, number)
    position: dict[str, Any] = notes(first)[-1]["stream"]
    return position


def notes(client: ActionTestClient) -> list[dict[str, Any]]:
    return [frame for frame in client.frames if frame.get("event") == "resume.note"]


async def test_events_of_a_kept_stream_carry_their_position_on_v1_and_not_on_protocol_0() -> None:
    connections = kept()
    v1 = ActionTestClient(user_id=7, connections=connections)
    v0 = ActionTestClient(user_id=7, connections=connections, protocol_version=0)
    async with opened(v1, v0):
        for number in (1, 2):
            await push(connections, number)
        await v1.dispatcher.wait_idle()
        await v0.dispatcher.wait_idle()
    positions = [frame["stream"] for frame in notes(v1)]
    assert [position["offset"] for position in positions] == [1, 2]
    assert {position["name"] for position in positions} == {"~user:7"}
    assert len({position["epoch"] for position in positions}) == 1
    assert all("stream" not in frame for frame in notes(v0))
    assert [frame["payload"]["n"] for frame in notes(v0)] == [1, 2]


async def test_a_new_connection_resumes_with_exactly_the_missed_events_in_order() -> None:
    connections = kept(size=50)
    position = await away(connections, range(1, 21))
    second = ActionTestClient(user_id=7, connections=connections)
    async with opened(second):
        outcome = await second.call("beeflow.resume", {"streams": [position]})
    assert outcome.complete
    replayed = notes(second)  # their own req_id (none, for a push), not the resume's
    assert second.frames.index(replayed[-1]) < second.frames.index(outcome.terminal)
    assert [frame["payload"]["n"] for frame in replayed] == list(range(1, 21))
    assert [frame["stream"]["offset"] for frame in replayed] == list(range(2, 22))
    resumed = [frame for frame in second.frames if frame.get("event") == "beeflow.resumed"]
    assert [frame["payload"] for frame in resumed] == [
        {"stream": "~user:7", "epoch": position["epoch"], "offset": 21, "replayed": 20}
    ]
    assert outcome.terminal["event"] == "beeflow.complete"
    assert outcome.terminal["payload"] == {"events": 1}


async def test_a_position_older_than_the_history_is_unrecoverable_and_nothing_of_it_is_replayed() -> None:
    connections = kept(size=5)
    position = await away(connections, range(1, 8))
    second = ActionTestClient(user_id=7, connections=connections)
    async with opened(second):
        outcome = await second.call(
            "beeflow.resume", {"streams": [position, {"name": "room", "epoch": "x", "offset": 1}]}
        )
    assert not outcome.complete
    assert outcome.terminal["code"] == "unrecoverable_position"
    assert outcome.terminal["status"] == 409
    assert outcome.terminal["streams"] == [
        {"name": "~user:7", "epoch": position["epoch"], "offset": 8, "reason": "expired"},
        {"name": "room", "epoch": "", "offset": 0, "reason": "not_a_member"},
    ]
    assert notes(second) == []


async def test_a_position_of_another_epoch_or_user_is_refused() -> None:
    connections = kept()
    client = ActionTestClient(user_id=7, connections=connections)
    async with opened(client):
        await push(connections, 1)
        await push(connections, 2, user="8")
        lost = await client.call(
            "beeflow.resume",
            {
                "streams": [
                    {"name": "~user:7", "epoch": "elsewhen", "offset": 1},
                    {"name": "~user:8", "epoch": "any", "offset": 0},
                ]
            },
        )
    streams: list[dict[str, Any]] = lost.terminal["streams"]  # type: ignore[assignment]
    reasons = [(stream["name"], stream["reason"]) for stream in streams]
    assert reasons == [("~user:7", "epoch_changed"), ("~user:8", "not_a_member")]


async def test_without_history_every_stream_is_unrecoverable() -> None:
    client = ActionTestClient(user_id=7)
    async with opened(client):
        outcome = await client.call(
            "beeflow.resume", {"streams": [{"name": "~user:7", "epoch": "e", "offset": 3}]}
        )
    assert outcome.terminal["streams"] == [
        {"name": "~user:7", "epoch": "", "offset": 0, "reason": "no_history"}
    ]


async def test_a_resume_frame_that_is_not_a_list_of_positions_is_invalid() -> None:
    client = ActionTestClient(user_id=7, connections=kept())
    async with opened(client):
        outcome = await client.call("beeflow.resume", {"streams": [{"name": "~user:7", "offset": -1}]})
    assert outcome.terminal["code"] == "invalid_action_payload"


async def test_events_published_during_a_resume_follow_the_replay_without_duplicates() -> None:
    connections = kept(size=100)
    position = await away(connections, range(1, 11))
    second = ActionTestClient(user_id=7, connections=connections)
    async with opened(second):
        await push(connections, 11)  # live on the new connection before it resumes
        pushing = asyncio.gather(*(push(connections, number) for number in range(12, 16)))
        outcome = await second.call("beeflow.resume", {"streams": [position]})
        await pushing
        await second.dispatcher.wait_idle()
    assert outcome.complete
    offsets = [frame["stream"]["offset"] for frame in notes(second)]
    assert sorted(offsets) == list(range(2, 17))
    assert len(offsets) == len(set(offsets))


async def test_protocol_0_does_not_know_the_reserved_resume() -> None:
    client = ActionTestClient(user_id=7, connections=kept(), protocol_version=0)
    async with opened(client):
        frames = await client.request("beeflow.resume", {"streams": []})
    assert frames[-1]["code"] == "unknown_websocket_action"


async def test_settings_give_the_history_policy() -> None:
    assert DispatcherSettings().history is None
    policy = DispatcherSettings(history_size=20, history_ttl=30, history_streams=("group",)).history
    assert policy == HistoryPolicy(20, 30, frozenset({"group"}))
    assert policy.keeps("room")
    assert not policy.keeps("~user:1")
    for wrong in (
        {"history_size": -1},
        {"history_ttl": 0},
        {"history_streams": ("room",)},
        {"history_streams": "user"},
    ):
        with pytest.raises(ValueError, match="history_"):
            DispatcherSettings(**wrong)


async def test_the_asker_in_a_kept_group_gets_its_own_copy_with_the_group_s_position_before_its_end() -> None:
    class Tell(metaclass=ActionRegistryMeta, name="resume.tell"):
        async def execute(
            self, message: WebSocketActionPayload, context: ActionContext
        ) -> AsyncIterator[Note]:
            for number in (1, 2):
                yield Note(
                    recipient="group", recipient_id="room", req_id=message.req_id, payload={"n": number}
                )

    connections = kept()
    asker, other = (
        ActionTestClient(user_id=7, connections=connections),
        ActionTestClient(user_id=8, connections=connections),
    )
    async with opened(asker, other):
        await asker.dispatcher.join("room")
        await other.dispatcher.join("room")
        outcome = await asker.call("resume.tell")
        await other.dispatcher.wait_idle()

    mine = [frame for frame in outcome.frames if frame.get("event") == "resume.note"]
    assert [frame["stream"]["offset"] for frame in mine] == [1, 2]  # type: ignore[index,call-overload]
    assert [frame["final"] for frame in mine] == [False, True]
    assert [frame["stream"] for frame in notes(other)] == [frame["stream"] for frame in mine]


async def test_a_resume_from_before_a_kick_is_refused_and_one_from_after_it_is_not() -> None:
    connections = kept()
    first = ActionTestClient(user_id=7, connections=connections)
    async with opened(first):
        await push(connections, 1)
        await first.dispatcher.wait_idle()
        await disconnect_user(7, delivery=connections)
        assert await first.closed_by_server() == (4409, "disconnected by the server")
    before = notes(first)[-1]["stream"]
    second = ActionTestClient(user_id=7, connections=connections)
    async with opened(second):
        await push(connections, 2)
        await second.dispatcher.wait_idle()
        refused = await second.call("beeflow.resume", {"streams": [before]})
        after = notes(second)[-1]["stream"]
        await push(connections, 3)
        resumed = await second.call("beeflow.resume", {"streams": [after]})

    assert refused.terminal["streams"] == [
        {"name": "~user:7", "epoch": before["epoch"], "offset": 3, "reason": "kicked"}
    ]
    assert after["offset"] == 3  # the kick took offset 2
    assert resumed.complete
