"""Stream histories in a real Redis, and the Redis engine that numbers, keeps and publishes in one step."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from beeflow_websocket.core.delivery.local import LocalConnections
from beeflow_websocket.core.delivery.redis import RedisDelivery
from beeflow_websocket.core.history.positions import HistoryPolicy
from beeflow_websocket.core.history.redis_history import RedisHistory
from beeflow_websocket.core.problems import DeliveryUnavailable
from beeflow_websocket.core.testing import ActionTestClient
from beeflow_websocket.core.transport import OutboundEvent

from serving import free_port

pytestmark = pytest.mark.anyio

POLICY = HistoryPolicy(size=3, ttl=60)


def note(number: int, skip: str | None = None) -> OutboundEvent:
    body = f'{{"event":"n","recipient":"group","recipient_id":"room","payload":{{"n":{number}}}}}'
    return OutboundEvent("7b3a6f1e-0c1d-4e8a-9f00-5a1b2c3d4e5f" if number == 1 else None, body, skip)


@pytest.fixture
async def client(redis_port: int) -> AsyncIterator[redis.Redis]:
    connection = redis.Redis(port=redis_port)
    yield connection
    await connection.aclose()


async def test_events_are_numbered_kept_and_read_back_after_a_position(client: redis.Redis) -> None:
    history = RedisHistory(lambda: client, prefix="app", policy=POLICY)
    appended = [await history.append("room", note(n, skip="c1" if n == 2 else None)) for n in (1, 2)]
    positions = [event.position for event in appended]
    assert positions[0] is not None
    assert positions[1] is not None
    epoch = positions[0].epoch

    replay = await history.read("room", epoch, 0)

    assert [position.offset for position in positions if position] == [1, 2]
    assert positions[1].epoch == epoch
    assert replay.reason is None
    assert (replay.stream, replay.epoch, replay.top) == ("room", epoch, 2)
    assert [(event.req_id, event.body, event.skip) for event in replay.events] == [
        (note(1).req_id, note(1).body, None),
        (None, note(2).body, "c1"),
    ]
    assert [event.position for event in replay.events] == positions
    assert (await history.read("room", epoch, 2)).events == []
    assert set(history.keys("room")) == {key.decode() for key in await client.keys("app:history:*")}
    assert await client.ttl("app:history:{room}:log") == 60


async def test_a_position_that_cannot_be_resumed_says_why(client: redis.Redis) -> None:
    history = RedisHistory(lambda: client, prefix="app", policy=POLICY)
    for n in range(1, 6):
        appended = await history.append("room", note(n))
    assert appended.position is not None
    epoch = appended.position.epoch

    assert (await history.read("room", epoch, 1)).reason == "expired"  # 2 is gone: three kept
    assert [
        event.position.offset for event in (await history.read("room", epoch, 2)).events if event.position
    ] == [
        3,
        4,
        5,
    ]
    assert (await history.read("room", epoch, 6)).reason == "ahead"
    assert (await history.read("room", "other", 5)).reason == "epoch_changed"
    assert (await history.read("elsewhere", epoch, 0)).reason == "epoch_changed"

    await client.flushall()
    renewed = await history.append("room", note(6))
    assert renewed.position is not None
    assert renewed.position.offset == 1
    assert renewed.position.epoch != epoch
    assert (await history.read("room", epoch, 5)).reason == "epoch_changed"


async def test_redis_unreachable_is_delivery_unavailable() -> None:
    gone = redis.Redis(port=free_port(), socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0))
    history = RedisHistory(lambda: gone, prefix="app", policy=POLICY)
    with pytest.raises(DeliveryUnavailable):
        await history.append("room", note(1))
    with pytest.raises(DeliveryUnavailable):
        await history.read("room", "e", 0)
    await gone.aclose()


class Node:
    """One "process": its own connections, and a Redis engine that keeps stream histories."""

    def __init__(self, port: int) -> None:
        self.local = LocalConnections()
        policy = HistoryPolicy(size=50, ttl=60)
        self.engine = RedisDelivery(f"redis://127.0.0.1:{port}/0", self.local, timeout=0.5, history=policy)

    def client(self, user_id: int) -> ActionTestClient:
        return ActionTestClient(user_id=user_id, connections=self.local, delivery=self.engine)


@pytest.fixture
async def nodes(redis_port: int) -> AsyncIterator[tuple[Node, Node]]:
    first, second = Node(redis_port), Node(redis_port)
    yield first, second
    await first.engine.close()
    await second.engine.close()


def offsets(client: ActionTestClient) -> list[int]:
    frames: list[dict[str, Any]] = client.frames
    return [frame["stream"]["offset"] for frame in frames if "stream" in frame]


async def received(client: ActionTestClient, count: int) -> None:
    for _ in range(300):
        await client.settle()
        if len(offsets(client)) >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"got {offsets(client)}, expected {count} events")


async def test_both_processes_hear_a_stream_in_offset_order_and_a_reconnect_resumes_on_the_other(
    nodes: tuple[Node, Node],
) -> None:
    here, there = nodes
    first = there.client(5)
    await first.open()
    await here.engine.send_to_group("~user:5", note(1))
    await received(first, 1)
    await first.close()
    position = first.frames[-1]["stream"]

    sent = await asyncio.gather(*(here.engine.send_to_group("~user:5", note(n)) for n in range(2, 12)))
    local, remote = here.client(5), there.client(5)
    await local.open()
    await remote.open()
    await there.engine.send_to_group("~user:5", note(12))
    outcome = await remote.call("beeflow.resume", {"streams": [position]})
    await received(local, 1)
    await received(remote, 11)
    for client in (local, remote):
        await client.close()

    assert sorted(event.position.offset for event in sent if event.position) == list(range(2, 12))
    assert outcome.complete
    assert sorted(offsets(remote)) == list(range(2, 13))
    assert len(offsets(remote)) == 11  # nothing twice
    assert offsets(local) == [12]


async def test_an_event_of_a_kept_stream_that_redis_cannot_take_is_neither_kept_nor_sent(
    caplog: pytest.LogCaptureFixture,
) -> None:
    node = Node(free_port())
    member = node.client(5)
    await member.open()
    with pytest.raises(DeliveryUnavailable):
        await node.engine.send_to_group("~user:5", note(1))
    await member.close()
    await node.engine.close()

    assert member.frames == []
    assert "an event for beeflow-websocket:group:~user:5 was neither kept nor handed over" in caplog.text


async def test_a_kick_s_mark_refuses_a_resume_across_it_and_is_never_sent(client: redis.Redis) -> None:
    history = RedisHistory(lambda: client, prefix="app", policy=POLICY)
    first = await history.append("~user:5", note(1))
    await history.mark("~user:5")
    later = await history.append("~user:5", note(2))
    assert first.position is not None
    assert later.position is not None

    assert (await history.read("~user:5", first.position.epoch, 1)).reason == "kicked"
    assert (await history.read("~user:5", first.position.epoch, 2)).events == [later]


async def test_events_kept_while_a_process_was_not_subscribed_reach_its_connections_when_it_is_back(
    nodes: tuple[Node, Node], client: redis.Redis
) -> None:
    here, there = nodes
    member = there.client(5)
    await member.open()
    await here.engine.send_to_group("~user:5", note(1))
    await received(member, 1)
    assert here.engine.history is not None
    await here.engine.history.append("~user:5", note(2))  # kept, never heard: as while unsubscribed
    await client.client_kill_filter(_type="pubsub")  # the processes' subscriptions drop, and come back
    await received(member, 2)
    await member.close()

    assert offsets(member) == [1, 2]
    assert member.closed_with is None
