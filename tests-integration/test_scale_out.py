"""Two server processes on one Redis, for each adapter: users, groups and pushes cross processes.

FastAPI (uvicorn) and Flask (gunicorn) use the Redis engine; Django (daphne) uses channels-redis.
The Redis server is real and started by the fixtures; the Redis outage test stops and restarts it.
"""

import contextlib
import json
from collections.abc import Iterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import anyio
import pytest
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from serving import SERVER_COMMANDS, Server, free_port, prepare_django_site, redis_command, start_server
from wsclient import connected, envelope, receive, send, stalled_connection

pytestmark = [pytest.mark.anyio, pytest.mark.integration]


def start_pair(
    name: str,
    redis_url: str,
    workdir: Any,
    extra_env: dict[str, str] | None = None,
    labels: tuple[str, ...] = ("a", "b"),
) -> list[Server]:
    env = {"SITE_REDIS_URL": redis_url, "DJANGOSITE_REDIS_URL": redis_url} | (extra_env or {})
    if name == "django":
        env |= prepare_django_site(workdir / "db.sqlite3")
    servers = []
    for label in labels:
        port = free_port()
        servers.append(
            start_server(f"{name}-{label}", SERVER_COMMANDS[name](port), workdir / f"{label}.log", port, env)
        )
    return servers


@pytest.fixture(scope="module", params=sorted(SERVER_COMMANDS))
def pair(
    request: pytest.FixtureRequest, redis_server: Server, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, Server]]:
    """Two processes of one adapter's site on the session's Redis."""
    servers = start_pair(
        request.param, f"redis://127.0.0.1:{redis_server.port}/0", tmp_path_factory.mktemp(request.param)
    )
    yield servers[0], servers[1]
    for server in servers:
        server.stop()


def client(server: Server, user_id: int, **options: Any) -> AbstractAsyncContextManager[ClientConnection]:
    return connected(server.url(), user_id=user_id, **options)


async def request(ws: ClientConnection, action: str, **payload: Any) -> dict[str, Any]:
    """Send an action and return its answer to this connection: its confirmation, or an error.

    Group events (``said``) carry the asker's ``req_id`` too, so the answer is picked by its event.
    """
    req_id = await send(ws, action, payload)
    answers = {"echoed", "membership", "health"}
    while True:
        frame = await receive(ws)
        if frame.get("req_id") == req_id and (frame.get("event") in answers or "code" in frame):
            return frame


async def said(ws: ClientConnection) -> str:
    with anyio.fail_after(10):
        while True:
            frame = await receive(ws)
            if frame.get("event") == "said":
                return str(frame["payload"]["text"])


async def test_an_event_for_a_user_reaches_their_connections_in_both_processes(
    pair: tuple[Server, Server],
) -> None:
    a, b = pair
    async with client(a, 7) as on_a, client(b, 7) as on_b, client(a, 8) as sender, client(b, 9) as bystander:
        # Flask-Sock completes the handshake before the adapter runs, so a connection there is
        # reachable only once its first frame is answered: wait for that on every adapter.
        for ws in (on_a, on_b):
            await request(ws, "health")
        confirmation = await request(sender, "say", recipient="user", to="7", text="hello seven")
        texts = [await said(on_a), await said(on_b)]
        # Frames arrive in order: had the bystander been sent the event, it would come before this.
        bystander_next = await request(bystander, "health")

    assert confirmation["payload"] == {"said": 1}
    assert texts == ["hello seven", "hello seven"]
    assert bystander_next["event"] == "health"
    assert bystander_next["seq"] == 1


async def test_join_broadcast_leave_across_processes(pair: tuple[Server, Server]) -> None:
    a, b = pair
    async with client(a, 1) as alice, client(b, 2) as bob, client(a, 3) as carol:
        assert (await request(alice, "join", group="room:42"))["payload"] == {"groups": ["room:42"]}
        await request(bob, "join", group="room:42")
        await request(carol, "say", recipient="group", to="room:42", text="first")
        assert [await said(alice), await said(bob)] == ["first", "first"]
        assert (await request(bob, "leave", group="room:42"))["payload"] == {"groups": []}
        await request(carol, "say", recipient="group", to="room:42", text="second")
        await request(carol, "say", recipient="user", to="2", text="only bob")
        assert await said(alice) == "second"
        assert await said(bob) == "only bob"


async def test_a_push_from_an_http_endpoint_in_one_process_reaches_the_other(
    pair: tuple[Server, Server],
) -> None:
    a, b = pair
    async with client(b, 4) as dave:
        await request(dave, "join", group="news")
        await anyio.to_thread.run_sync(a.push, "user", "4", "for dave")
        await anyio.to_thread.run_sync(a.push, "group", "news", "breaking")

        assert [await said(dave), await said(dave)] == ["for dave", "breaking"]
        if a.name.startswith("fastapi"):
            # FastAPI's sync form, from a def endpoint that FastAPI runs in a worker thread.
            await anyio.to_thread.run_sync(a.push, "user", "4", "from a thread", "/push-sync/")
            assert await said(dave) == "from a thread"


@pytest.mark.parametrize("adapter", ["django", "fastapi", "flask"])
async def test_redis_down_is_503_and_delivery_resumes_when_it_is_back(
    adapter: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """On Django, with the adapter's Redis engine (BEEFLOW_WEBSOCKET_REDIS_URL), as django.md advises."""
    workdir = tmp_path_factory.mktemp(f"outage-{adapter}")
    redis_port = free_port()
    redis = start_server("redis-outage", redis_command(redis_port), workdir / "redis.log", redis_port)
    url = f"redis://127.0.0.1:{redis_port}/0"
    a, b = start_pair(adapter, url, workdir, {"DJANGOSITE_BEEFLOW_REDIS_URL": url})
    try:
        async with client(a, 1) as alice, client(b, 2) as bob:
            await request(bob, "join", group="room:7")
            await request(alice, "say", recipient="group", to="room:7", text="before")
            assert await said(bob) == "before"

            redis.stop()
            unavailable = await request(alice, "say", recipient="group", to="room:7", text="during")
            assert (unavailable["status"], unavailable["code"]) == (503, "delivery_unavailable")
            assert (await request(alice, "health"))["event"] == "health"

            redis = start_server(
                "redis-outage", redis_command(redis_port), workdir / "redis-again.log", redis_port
            )
            # Pub/sub keeps nothing: until bob's process has subscribed again, an event can miss it
            # (documented). So keep saying something new until bob hears one of them.
            heard = ""
            with anyio.fail_after(30):
                attempt = 0
                while not heard:
                    attempt += 1
                    answer = await request(
                        alice, "say", recipient="group", to="room:7", text=f"after {attempt}"
                    )
                    if "code" not in answer:
                        with anyio.move_on_after(1):
                            heard = await said(bob)
            assert heard.startswith("after ")
        assert "lost the Redis subscription" in a.output() + b.output()
        assert "reachable again" in a.output() + b.output()
    finally:
        for server in (a, b, redis):
            server.stop()


@pytest.mark.parametrize("adapter", ["fastapi", "flask"])
async def test_a_client_that_stops_reading_is_closed_while_the_others_keep_receiving(
    adapter: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    workdir = tmp_path_factory.mktemp(f"slow-{adapter}")
    port = free_port()
    server = start_server(
        adapter, SERVER_COMMANDS[adapter](port), workdir / "server.log", port, {"SITE_MAX_OUTBOUND": "32"}
    )
    stalled = stalled_connection(server.port, 2, "firehose")
    try:
        async with client(server, 1) as reader, client(server, 3) as sender:
            await request(reader, "join", group="firehose")
            await anyio.sleep(0.2)  # the stalled client's join is handled

            await request(
                sender, "say", recipient="group", to="firehose", text="flood", times=300, pad=64 * 1024
            )
            received = 0
            with anyio.fail_after(60):
                while received < 300:
                    frame = json.loads(await reader.recv())
                    received += frame.get("event") == "said"
        with anyio.fail_after(20):
            while "its client is not reading" not in server.output():  # noqa: ASYNC110 - another process's log
                await anyio.sleep(0.1)
    finally:
        stalled.close()
        server.stop()

    # The healthy reader got every event while the stalled one was closed (1013, logged).
    assert received == 300
    assert "closing connection" in server.output()


async def close_of(ws: ClientConnection) -> tuple[int, str]:
    """The code and reason the server closed ``ws`` with; the frames before it are skipped."""
    with anyio.fail_after(5), contextlib.suppress(ConnectionClosed):
        async for _ in ws:
            pass
    assert ws.close_code is not None
    return ws.close_code, ws.close_reason or ""


async def test_a_kick_from_a_third_process_closes_the_user_on_both_processes(
    pair: tuple[Server, Server], redis_server: Server, tmp_path: Path
) -> None:
    a, b = pair
    adapter = a.name.rsplit("-", 1)[0]
    (third,) = start_pair(adapter, f"redis://127.0.0.1:{redis_server.port}/0", tmp_path, labels=("c",))
    try:
        async with client(a, 5) as on_a, client(b, 5) as on_b, client(b, 6) as bystander:
            for ws in (on_a, on_b, bystander):
                await request(ws, "health")  # served: in the user's group on its process
            await anyio.to_thread.run_sync(third.post, "/kick/", {"user_id": 5, "reason": "signed out"})
            closes = [await close_of(on_a), await close_of(on_b)]
            still_served = await request(bystander, "health")
    finally:
        third.stop()

    # daphne sends the close code without the reason Channels hands it.
    reason = "" if adapter == "django" else "signed out"
    assert closes == [(4409, reason)] * 2
    assert still_served["event"] == "health"


async def terminal(ws: ClientConnection, frame: dict[str, Any]) -> dict[str, Any]:
    """Send ``frame`` as it is (a retry keeps its ids); its terminal frame (``"final": true``)."""
    await ws.send(json.dumps(frame))
    with anyio.fail_after(10):
        while True:
            answer = await receive(ws)
            if answer.get("req_id") == frame["req_id"] and answer.get("final") is True:
                return answer


async def test_a_request_sent_again_to_the_other_process_is_not_run_twice(
    pair: tuple[Server, Server],
) -> None:
    a, b = pair
    frame = envelope("say", {"recipient": "user", "to": "10", "text": "charge once"})
    async with client(a, 10, v1=True) as first, client(b, 10, v1=True) as retry, client(b, 10) as watcher:
        await request(watcher, "health")  # served: in the user's group
        done = await terminal(first, frame)
        again = await terminal(retry, frame)
        await request(first, "say", recipient="user", to="10", text="marker")
        # The user's stream is ordered: a second run would be heard before the marker.
        heard = [await said(watcher), await said(watcher)]

    assert (done["event"], done["payload"]) == ("beeflow.complete", {"events": 2})  # said, echoed
    assert (again["status"], again["code"], again["outcome"]) == (409, "duplicate_request", "completed")
    assert heard == ["charge once", "marker"]


async def test_a_request_its_connection_left_running_is_reported_interrupted_to_a_retry_elsewhere(
    pair: tuple[Server, Server],
) -> None:
    a, b = pair
    frame = envelope("linger")
    async with client(a, 9, v1=True) as first:
        await first.send(json.dumps(frame))
        assert (await receive(first))["payload"] == {"lingering": True}  # it runs, and waits
    outcomes = []
    async with client(b, 9, v1=True) as retry:
        # The first process records the interruption once it has seen the connection go.
        with anyio.fail_after(10):
            while not outcomes or outcomes[-1] == "running":
                answer = await terminal(retry, frame)
                assert (answer["status"], answer["code"]) == (409, "duplicate_request")
                outcomes.append(answer["outcome"])
                await anyio.sleep(0.05)

    assert outcomes[-1] == "interrupted"
    assert set(outcomes[:-1]) <= {"running"}
