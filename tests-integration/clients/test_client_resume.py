"""Both clients resume their streams after a network loss, against every adapter on its real server.

The network between client and server is a TCP proxy the test cuts (testkit/proxy.py): the client
sees a lost connection, as on a real network, and the server a peer that vanished. Events are pushed
to the user or a group from outside, over HTTP, while the client is away. The sites keep 300 events
per stream, in memory (one process per adapter here). Each case connects as a user of its own for
each client and adapter, so that its stream starts at offset 1.
"""

import asyncio
from typing import Any

import pytest
from proxy import Proxy

from drivers import NETWORK_LOSS, Driver, user_of
from serving import Server

pytestmark = [pytest.mark.anyio, pytest.mark.integration]


async def said(driver: Driver, count: int) -> list[dict[str, Any]]:
    """The ``said`` events the client's listener has received, once there are ``count``."""
    async with asyncio.timeout(20):
        while True:
            received = (await driver.call("received", event="said"))["events"]
            if len(received) >= count:
                return list(received)
            await asyncio.sleep(0.05)


async def reconnected(driver: Driver, recovered: object = True) -> dict[str, Any]:
    """The client is open again and its resume has ended: its state."""
    async with asyncio.timeout(20):
        while True:
            state: dict[str, Any] = await driver.call("state")
            if state["status"] == "open" and state["recovered"] is recovered:
                return state
            await asyncio.sleep(0.05)


async def push(served: Server, recipient: str, to: str, texts: list[str]) -> None:
    """Push ``said`` events over HTTP, in order, from a thread (300 take a moment)."""

    def each() -> None:
        for text in texts:
            served.push(recipient, to, text)

    await asyncio.to_thread(each)


async def listening(driver: Driver, url: str, user: int, **options: Any) -> None:
    """The client is open as ``user``, listens to ``said``, and is in its user's stream."""
    assert (await driver.call("connect", url=url, tokens=[f"user-{user}"], **NETWORK_LOSS, **options))["ok"]
    assert (await driver.call("wait_status", status="open", timeout=10))["ok"]
    assert (await driver.call("listen", event="said"))["ok"]
    await driver.call("request", action="health", payload={})  # a round trip: the connection is served


async def offline(driver: Driver) -> None:
    """The client noticed the network go."""
    assert (await driver.call("wait_status", status="reconnecting", timeout=10))["ok"]


async def test_a_client_away_gets_exactly_what_it_missed_in_order(driver: Driver, served: Server) -> None:
    user = user_of(1010, driver, served)
    async with Proxy(served.port) as proxy:
        await listening(driver, proxy.url(), user)
        await push(served, "user", str(user), [f"live {n}" for n in range(3)])
        await said(driver, 3)
        async with proxy.held():
            await offline(driver)
            await push(served, "user", str(user), [f"missed {n}" for n in range(20)])
        state = await reconnected(driver)
        await said(driver, 23)
        await asyncio.sleep(0.2)  # time for a repeat to show
        received = (await driver.call("received", event="said"))["events"]

    texts = [event["payload"]["text"] for event in received]
    assert texts == [f"live {n}" for n in range(3)] + [f"missed {n}" for n in range(20)]
    assert [event["stream"]["offset"] for event in received] == list(range(1, 24))
    assert state["resyncs"] == []
    assert state["positions"][f"~user:{user}"] == {"epoch": received[0]["stream"]["epoch"], "offset": 23}


async def test_more_than_the_server_keeps_is_a_resync_and_live_events_go_on(
    driver: Driver, served: Server
) -> None:
    user = user_of(1040, driver, served)
    async with Proxy(served.port) as proxy:
        await listening(driver, proxy.url(), user)
        await push(served, "user", str(user), [f"live {n}" for n in range(3)])
        await said(driver, 3)
        async with proxy.held():
            await offline(driver)
            await push(served, "user", str(user), [f"gone {n}" for n in range(310)])
        state = await reconnected(driver, recovered=False)
        await push(served, "user", str(user), ["after"])
        received = await said(driver, 4)

    epoch = received[0]["stream"]["epoch"]
    assert state["resyncs"] == [
        [{"name": f"~user:{user}", "epoch": epoch, "offset": 313, "reason": "expired"}]
    ]
    assert [event["payload"]["text"] for event in received] == [f"live {n}" for n in range(3)] + ["after"]
    assert received[3]["stream"] == {"name": f"~user:{user}", "epoch": epoch, "offset": 314}
    assert state["positions"][f"~user:{user}"] == {"epoch": epoch, "offset": 313}


async def test_a_group_joined_again_before_the_resume_is_recovered(driver: Driver, served: Server) -> None:
    user = user_of(1070, driver, served)
    group = f"resumed-{user}"
    join = {"action": "join", "payload": {"group": group}}
    async with Proxy(served.port) as proxy:
        await listening(driver, proxy.url(), user, rejoin=[join])
        await driver.call("request", **join)
        await push(served, "group", group, ["live"])
        await said(driver, 1)
        async with proxy.held():
            await offline(driver)
            await push(served, "group", group, [f"missed {n}" for n in range(5)])
        state = await reconnected(driver)
        received = await said(driver, 6)

    assert [event["payload"]["text"] for event in received] == ["live"] + [f"missed {n}" for n in range(5)]
    assert [event["stream"]["name"] for event in received] == [group] * 6
    assert state["resyncs"] == []
