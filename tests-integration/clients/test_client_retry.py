"""Both clients send a request made with ``retry`` again after a network loss, and the server runs it once.

Every adapter's site remembers msg_ids for 30 s (``retry_window``) and runs one action at a time per
connection. The network between client and server is a TCP proxy the test cuts (testkit/proxy.py).
A watcher, connected straight to the site as the same user, hears what the requests say to their
user: each run of ``linger`` announces itself there, so a second run could not go unheard.
"""

import asyncio
from typing import Any
from uuid import uuid4

import pytest
from proxy import Proxy
from websockets.asyncio.client import ClientConnection

from drivers import NETWORK_LOSS, Driver, user_of
from serving import Server
from wsclient import connected, receive, request

pytestmark = [pytest.mark.anyio, pytest.mark.integration]


async def heard(watcher: ClientConnection) -> str:
    """The next text said to the watcher's user."""
    async with asyncio.timeout(10):
        while True:
            frame = await receive(watcher)
            if frame.get("event") == "said":
                return str(frame["payload"]["text"])


async def test_a_retried_request_that_ran_is_reported_and_one_that_waited_runs_once(
    driver: Driver, served: Server
) -> None:
    user = user_of(1100, driver, served)
    announce = f"linger {uuid4()}"
    async with Proxy(served.port) as proxy, connected(served.url(), user_id=user, v1=True) as watcher:
        await request(watcher, "health")  # served: in its user's stream
        assert (await driver.call("connect", url=proxy.url(), tokens=[f"user-{user}"], **NETWORK_LOSS))["ok"]
        assert (await driver.call("wait_status", status="open", timeout=10))["ok"]
        lingering = asyncio.create_task(
            driver.call("request", action="linger", payload={"announce": announce}, timeout=20, retry=True)
        )
        assert await heard(watcher) == announce  # it runs, and holds the connection's only slot
        waiting = asyncio.create_task(
            driver.call(
                "request",
                action="say",
                payload={"recipient": "user", "to": str(user), "text": "said once"},
                timeout=20,
                retry=True,
            )
        )
        await asyncio.sleep(0.2)  # time for the second request to reach the server, where it waits
        proxy.cut()
        ran, said = await lingering, await waiting
        # The user's stream is ordered: a second run of either would be heard before this.
        await asyncio.to_thread(served.push, "user", str(user), "marker")
        after = [await heard(watcher), await heard(watcher)]
        state = await driver.call("state")

    assert ran["ok"] is False
    problem: dict[str, Any] = ran["problem"]
    assert (problem["status"], problem["code"]) == (409, "duplicate_request")
    # "running" when the retry overtook the server's notice of the loss; "interrupted" once it came.
    assert problem["outcome"] in {"running", "interrupted"}
    assert said["ok"] is True
    assert [event["event"] for event in said["events"]][-1] == "echoed"
    assert after == ["said once", "marker"]
    assert state["status"] == "open"
    assert "reconnecting" in state["statuses"]


async def test_without_retry_a_request_in_flight_fails_with_connection_lost(
    driver: Driver, served: Server
) -> None:
    user = user_of(1100, driver, served) + 2
    async with Proxy(served.port) as proxy, connected(served.url(), user_id=user, v1=True) as watcher:
        await request(watcher, "health")
        assert (await driver.call("connect", url=proxy.url(), tokens=[f"user-{user}"], **NETWORK_LOSS))["ok"]
        assert (await driver.call("wait_status", status="open", timeout=10))["ok"]
        lingering = asyncio.create_task(
            driver.call("request", action="linger", payload={"announce": "once"}, timeout=20)
        )
        assert await heard(watcher) == "once"
        proxy.cut()
        lost = await lingering

    assert lost == {"ok": False, "error": "connection_lost"}
