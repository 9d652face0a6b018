"""The Redis engine against a real Redis server: two engines stand for two processes."""

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio as redis

from beeflow_websocket.core.delivery.local import LocalConnections
from beeflow_websocket.core.delivery.redis import RedisDelivery
from beeflow_websocket.core.lifecycle import ConnectionLifecycle
from beeflow_websocket.core.problems import DeliveryUnavailable
from beeflow_websocket.core.redis_delivery import RedisDelivery as RedisDeliveryKept
from beeflow_websocket.core.settings import DispatcherSettings
from beeflow_websocket.core.testing import ActionTestClient
from beeflow_websocket.core.transport import OutboundEvent

from serving import redis_command, start_server
from transports import Stalled

pytestmark = pytest.mark.anyio

EVENT = OutboundEvent(
    req_id=None, body='{"event":"note","recipient":"group","recipient_id":"room","payload":{}}'
)


class Node:
    """One "process": its own connections, and a Redis engine."""

    def __init__(self, port: int) -> None:
        self.local = LocalConnections()
        self.engine = RedisDelivery(f"redis://127.0.0.1:{port}/0", self.local, timeout=0.5)

    def client(self, user_id: int, websocket_id: str) -> ActionTestClient:
        return ActionTestClient(
            user_id=user_id, websocket_id=websocket_id, connections=self.local, delivery=self.engine
        )


@pytest.fixture
async def nodes(redis_port: int) -> AsyncIterator[tuple[Node, Node]]:
    first, second = Node(redis_port), Node(redis_port)
    yield first, second
    await first.engine.close()
    await second.engine.close()


async def eventually(client: ActionTestClient, count: int) -> None:
    for _ in range(200):
        await client.settle()
        if len(client.frames) >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{client.websocket_id} got {len(client.frames)} frames, expected {count}")


async def test_groups_users_and_connections_reach_the_other_process(nodes: tuple[Node, Node]) -> None:
    here, there = nodes
    alice, bob = here.client(1, "alice"), there.client(2, "bob")
    await alice.open()
    await bob.open()
    await here.engine.add_to_group("room", "alice")
    await there.engine.add_to_group("room", "bob")

    await here.engine.send_to_group("room", EVENT)
    await here.engine.send_to_group("~user:2", EVENT)
    await here.engine.send_to_connections(["bob", "alice", "nobody"], EVENT)
    await eventually(bob, 3)
    await eventually(alice, 2)

    assert [frame["seq"] for frame in bob.frames] == [1, 2, 3]
    assert len(alice.frames) == 2  # the group, and the direct event; its own publication is skipped
    await there.engine.remove_from_group("room", "bob")
    await here.engine.send_to_group("room", EVENT)
    await eventually(alice, 3)
    await asyncio.sleep(0.05)
    assert len(bob.frames) == 3
    for client in (alice, bob):
        await client.close()


async def test_redis_down_is_delivery_unavailable_and_the_engine_recovers(
    redis_port: int, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    here, there = Node(redis_port), Node(redis_port)
    bob = there.client(2, "bob")
    await bob.open()
    await there.engine.add_to_group("room", "bob")
    server = None
    try:
        stopper = redis.Redis(port=redis_port)
        await stopper.shutdown(nosave=True)
        await stopper.aclose()
        await asyncio.sleep(0.1)
        with pytest.raises(DeliveryUnavailable):
            await here.engine.send_to_group("room", EVENT)
        await there.engine.add_to_group("later", "bob")  # kept here, subscribed once Redis is back

        server = start_server("redis", redis_command(redis_port), tmp_path / "redis-again.log", redis_port)
        for _ in range(100):
            await asyncio.sleep(0.05)
            try:
                await here.engine.send_to_group("later", EVENT)
            except DeliveryUnavailable:
                continue
            await bob.settle()
            if bob.frames:
                break
        assert bob.frames, "delivery did not resume"
        assert "lost the Redis subscription" in caplog.text
        assert "is reachable again" in caplog.text
    finally:
        await bob.close()
        await here.engine.close()
        await there.engine.close()
        if server is not None:
            server.stop()


async def test_malformed_messages_are_ignored(
    nodes: tuple[Node, Node], caplog: pytest.LogCaptureFixture
) -> None:
    here, _ = nodes
    here.engine._handle({"channel": b"beeflow-websocket:connections", "data": b"not json"})
    here.engine._handle({"channel": "beeflow-websocket:connections", "data": json.dumps({"origin": "x"})})

    assert caplog.text.count("ignored a malformed message") == 2


async def test_stalled_members_never_hold_up_the_listener_nor_the_other_members(
    nodes: tuple[Node, Node],
) -> None:
    here, there = nodes
    settings = DispatcherSettings(max_outbound_messages=4, slow_consumer_timeout=1.0)
    reader = ActionTestClient(
        user_id=2, websocket_id="reader", connections=there.local, delivery=there.engine, settings=settings
    )
    await reader.open()
    await there.engine.add_to_group("room", "reader")
    stalled = []
    for n in range(4):
        transport = Stalled()
        lifecycle = ConnectionLifecycle(
            transport,
            delivery=there.engine,
            connections=there.local,
            websocket_id=f"stalled-{n}",
            user_id=3,
            path="/ws/",
            settings=settings,
        )
        await lifecycle.__aenter__()
        await lifecycle.dispatcher.join("room")
        stalled.append((transport, lifecycle))

    started = time.monotonic()
    for _ in range(200):
        await here.engine.send_to_group("room", EVENT)
    await eventually(reader, 200)
    took = time.monotonic() - started

    assert took < settings.slow_consumer_timeout  # not one timeout per stalled member, not even one
    assert [frame["seq"] for frame in reader.frames] == list(range(1, 201))
    await asyncio.sleep(settings.slow_consumer_timeout * 2)
    assert [transport.closed_with for transport, _ in stalled] == [
        (1013, "outbound queue full: the client is not reading")
    ] * 4
    for _, lifecycle in stalled:
        await lifecycle.__aexit__(None, None, None)
    await reader.close()


def test_the_engine_keeps_its_0_4_import_path() -> None:
    assert RedisDeliveryKept is RedisDelivery


async def test_a_user_is_disconnected_in_every_process_from_a_third(redis_port: int) -> None:
    here, there, third = Node(redis_port), Node(redis_port), Node(redis_port)
    on_here, on_there, bystander = here.client(7, "a"), there.client(7, "b"), there.client(8, "c")
    try:
        for client in (on_here, on_there, bystander):
            await client.open()

        await third.engine.close_group("~user:7", 4409, "kicked")
        await third.engine.close_connections(["c"], 4000, "one only")

        async with asyncio.timeout(2):
            while None in (on_here.closed_with, on_there.closed_with, bystander.closed_with):  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        assert on_here.closed_with == on_there.closed_with == (4409, "kicked")
        assert bystander.closed_with == (4000, "one only")
    finally:
        for node in (here, there, third):
            await node.engine.close()


async def test_a_kick_coming_back_to_its_own_process_is_skipped(nodes: tuple[Node, Node]) -> None:
    here, _ = nodes
    kicked = here.client(7, "a")
    await kicked.open()

    await here.engine.close_group("~user:7", 4409, "kicked")
    signed_in_again = here.client(7, "b")  # before the published kick has come back from Redis
    await signed_in_again.open()
    await asyncio.sleep(0.2)

    assert kicked.closed_with == (4409, "kicked")
    assert signed_in_again.closed_with is None


async def test_a_malformed_kick_is_ignored(
    nodes: tuple[Node, Node], caplog: pytest.LogCaptureFixture
) -> None:
    here, _ = nodes
    here.engine._handle(
        {"channel": "beeflow-websocket:group:~user:7", "data": json.dumps({"origin": "x", "close": [4409]})}
    )

    assert "ignored a malformed message" in caplog.text
