"""Users' rate limits in a real Redis: shared by two engines (two processes), per process when it is gone."""

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from beeflow_websocket.core.delivery.local import LocalConnections
from beeflow_websocket.core.delivery.redis import RedisDelivery
from beeflow_websocket.core.guardrails.rate_limits import RateLimit
from beeflow_websocket.core.guardrails.redis_tokens import RedisTokens
from beeflow_websocket.core.settings import DispatcherSettings
from beeflow_websocket.core.testing import ActionTestClient

from serving import free_port

pytestmark = pytest.mark.anyio

THREE_A_MINUTE = RateLimit(3, 60.0)


@pytest.fixture
async def engines(redis_port: int) -> AsyncIterator[tuple[RedisDelivery, RedisDelivery]]:
    url = f"redis://127.0.0.1:{redis_port}/0"
    first, second = (RedisDelivery(url, LocalConnections(), timeout=0.5) for _ in range(2))
    yield first, second
    await first.close()
    await second.close()


async def test_two_processes_share_a_user_s_buckets(engines: tuple[RedisDelivery, RedisDelivery]) -> None:
    here, there = engines

    taken = [await engine.tokens.take("7", [("", THREE_A_MINUTE)]) for engine in (here, there, here)]
    refused = await there.tokens.take("7", [("", THREE_A_MINUTE)])

    assert taken == [None, None, None]
    assert refused is not None
    assert refused.limit == THREE_A_MINUTE
    assert 19.9 < refused.seconds <= 20.0  # Redis's clock: one token every 20 s
    assert await here.tokens.take("8", [("", THREE_A_MINUTE)]) is None  # another user


async def test_several_buckets_are_taken_all_or_none_and_the_longest_wait_is_named(
    engines: tuple[RedisDelivery, RedisDelivery],
) -> None:
    here, _ = engines
    one_a_minute = RateLimit(1, 60.0)
    assert await here.tokens.take("9", [("", THREE_A_MINUTE), ("search", one_a_minute)]) is None

    refused = await here.tokens.take("9", [("", THREE_A_MINUTE), ("search", one_a_minute)])
    alone = [await here.tokens.take("9", [("", THREE_A_MINUTE)]) for _ in range(3)]

    assert refused is not None
    assert refused.limit == one_a_minute
    assert refused.seconds == pytest.approx(60.0, abs=0.2)
    assert [wait is None for wait in alone] == [True, True, False]  # the refusal took nothing


async def test_a_user_s_keys_share_a_cluster_slot_and_expire_once_full(
    engines: tuple[RedisDelivery, RedisDelivery], redis_port: int
) -> None:
    here, _ = engines
    await here.tokens.take("alice", [("", RateLimit(10, 1.0)), ("search", RateLimit(1, 2.0))])

    inspector = redis.Redis(port=redis_port)
    try:
        keys = sorted(key.decode() for key in await inspector.keys("beeflow-websocket:rate:*"))
        ttls = [await inspector.pttl(key) for key in keys]
    finally:
        await inspector.aclose()

    assert keys == ["beeflow-websocket:rate:{alice}:", "beeflow-websocket:rate:{alice}:search"]
    assert 0 < ttls[0] <= 102  # full again 0.1 s later: no state is kept past it
    assert 1900 < ttls[1] <= 2002


async def test_without_redis_the_limit_holds_per_process_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    tried = []

    def unreachable() -> redis.Redis:
        tried.append(True)
        return redis.Redis(port=free_port(), socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0))

    tokens = RedisTokens(unreachable, prefix="app")

    answers = [await tokens.take("7", [("", THREE_A_MINUTE)]) for _ in range(4)]
    assert len(tried) == 1  # tried again a second later, not on every request
    await asyncio.sleep(1.05)
    await tokens.take("8", [("", THREE_A_MINUTE)])

    assert [answer is None for answer in answers] == [True, True, True, False]
    assert len(tried) == 2
    assert caplog.text.count("Redis cannot be reached") == 1  # once a minute, not once a request


async def test_a_user_flooding_from_two_processes_is_held_to_its_limit(
    engines: tuple[RedisDelivery, RedisDelivery],
) -> None:
    settings = DispatcherSettings(user_rate_limit="10/min", rate_limit_budget=None)
    clients = [
        ActionTestClient(user_id=5, settings=settings, connections=engine.local, delivery=engine)
        for engine in engines
    ]
    async with asyncio.timeout(10):
        outcomes = [await clients[n % 2].call("health") for n in range(30)]

    assert sum(outcome.problem is None for outcome in outcomes) == 10
    assert {str((outcome.problem or {}).get("scope")) for outcome in outcomes[10:]} == {"user"}
    for client in clients:
        await client.close()
