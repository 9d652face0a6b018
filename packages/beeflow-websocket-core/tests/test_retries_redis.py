"""The ledger of started requests in a real Redis, shared by every process."""

from collections.abc import AsyncIterator
from uuid import uuid4

import pytest
import redis.asyncio as redis

from beeflow_websocket.core._retries import ConnectionRetries
from beeflow_websocket.core.delivery.local import LocalConnections
from beeflow_websocket.core.delivery.redis import RedisDelivery
from beeflow_websocket.core.problems import DeliveryUnavailable
from beeflow_websocket.core.retries.ledger import ledger_of
from beeflow_websocket.core.retries.redis_ledger import RedisLedger

from serving import free_port

pytestmark = pytest.mark.anyio


@pytest.fixture
async def client(redis_port: int) -> AsyncIterator[redis.Redis]:
    connection = redis.Redis(port=redis_port)
    yield connection
    await connection.aclose()


async def test_one_of_two_processes_begins_a_msg_id_and_the_other_hears_its_outcome(
    client: redis.Redis,
) -> None:
    here, there = (RedisLedger(lambda: client, prefix="app") for _ in range(2))

    assert await here.begin("7", "m1", 30) is None
    assert await there.begin("7", "m1", 30) == "running"
    await here.settle("7", ["m1"], "completed", 30)
    assert await there.begin("7", "m1", 30) == "completed"
    assert await there.begin("8", "m1", 30) is None


async def test_an_entry_is_one_key_of_its_users_slot_expiring_a_window_after_its_last_change(
    client: redis.Redis,
) -> None:
    ledger = RedisLedger(lambda: client, prefix="app")
    await ledger.begin("7", "m1", 30)
    await ledger.settle("7", ["m1"], "interrupted", 60)

    assert await client.keys("app:*") == [b"app:request:{7}:m1"]
    assert await client.get("app:request:{7}:m1") == b"interrupted"
    assert 59_000 < await client.pttl("app:request:{7}:m1") <= 60_000


async def test_settling_an_expired_entry_does_not_bring_it_back(client: redis.Redis) -> None:
    ledger = RedisLedger(lambda: client, prefix="app")

    await ledger.settle("7", ["m1"], "completed", 30)

    assert await client.exists("app:request:{7}:m1") == 0


async def test_the_redis_engine_keeps_its_ledger_in_its_redis(redis_port: int) -> None:
    delivery = RedisDelivery(f"redis://127.0.0.1:{redis_port}/0", LocalConnections(), channel_prefix="shop")
    try:
        ledger = ledger_of(delivery)
        assert isinstance(ledger, RedisLedger)
        assert ledger.prefix == "shop"
        assert await ledger.begin("7", "m1", 30) is None
    finally:
        await delivery.close()


async def test_a_request_is_not_run_when_the_ledger_cannot_be_reached(
    caplog: pytest.LogCaptureFixture,
) -> None:
    unreachable = redis.Redis(port=free_port(), socket_connect_timeout=0.5)
    retries = ConnectionRetries(RedisLedger(lambda: unreachable, prefix="app"), owner="7", window=30)
    try:
        refused = await retries.begin(uuid4())
        await retries.interrupt()  # nothing began: nothing to write
    finally:
        await unreachable.aclose()

    assert isinstance(refused, DeliveryUnavailable)
    assert "was not run" in caplog.text


async def test_an_outcome_that_cannot_be_written_is_logged_and_the_request_goes_on(
    client: redis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    current = [client]  # the engine hands out its client of the moment; Redis then goes away
    retries = ConnectionRetries(RedisLedger(lambda: current[0], prefix="app"), owner="7", window=30)
    msg_id = uuid4()
    assert await retries.begin(msg_id) is None
    current[0] = redis.Redis(port=free_port(), socket_connect_timeout=0.5)

    try:
        await retries.settle(msg_id, "completed")
    finally:
        await current[0].aclose()

    assert "could not record 1 request(s) as completed" in caplog.text
