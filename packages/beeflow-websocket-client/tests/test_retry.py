"""Requests made with ``retry`` across a lost connection, against a scripted server on loopback.

Each connection runs the next script; the server's door can be shut (every handshake then gets a
503, which the client retries as an outage) to keep the client offline for as long as a case needs.
"""

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from http import HTTPStatus
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from beeflow_websocket.client import (
    Backoff,
    Client,
    ClientClosed,
    ConnectionLost,
    ProblemError,
    ReceivedEvent,
    RequestTimeout,
)

pytestmark = pytest.mark.anyio

type Script = Callable[[ServerConnection, "Server"], Awaitable[None]]

FAST: dict[str, Any] = {"backoff": Backoff(0.01, 0.05), "connect_timeout": 2.0, "heartbeat": None}


class Server:
    """What the scripted server saw, by connection, and its door."""

    def __init__(self, scripts: list[Script]) -> None:
        self.scripts = scripts
        self.received: list[list[dict[str, Any]]] = []
        self.door_open = True
        self.url = ""

    async def read(self, connection: ServerConnection) -> dict[str, Any]:
        """The next request of this connection, recorded."""
        request: dict[str, Any] = json.loads(await connection.recv())
        self.received[-1].append(request)
        return request

    def actions(self, connection: int) -> list[str]:
        return [request["action"] for request in self.received[connection]]


@asynccontextmanager
async def scripted(*scripts: Script) -> AsyncIterator[Server]:
    """Connection n runs ``scripts[n]`` (the last one for every later connection)."""
    server = Server(list(scripts))

    def door(connection: ServerConnection, request: Request) -> Response | None:
        return None if server.door_open else connection.respond(HTTPStatus.SERVICE_UNAVAILABLE, "later\n")

    def choose(connection: ServerConnection, offered: Any) -> Subprotocol:
        return Subprotocol("beeflow.v1")

    async def handler(connection: ServerConnection) -> None:
        server.received.append([])
        await server.scripts[min(len(server.received), len(server.scripts)) - 1](connection, server)

    async with serve(handler, "127.0.0.1", 0, process_request=door, select_subprotocol=choose) as running:
        port = next(iter(running.sockets)).getsockname()[1]
        server.url = f"ws://127.0.0.1:{port}/"
        yield server


def frame(req_id: str, final: bool, **members: Any) -> str:
    return json.dumps({"msg_id": "m", "req_id": req_id, "seq": 1, "final": final, **members})


def step(req_id: str, final: bool, n: int) -> str:
    return frame(req_id, final, event="step", payload={"n": n})


def lose_after(count: int, code: int = 1011, *, shut: bool = False) -> Script:
    """Read ``count`` requests, answer each with a first step, (shut the door,) then close with ``code``."""

    async def script(connection: ServerConnection, server: Server) -> None:
        for _ in range(count):
            request = await server.read(connection)
            await connection.send(step(request["req_id"], False, 1))
        server.door_open = not shut
        await connection.close(code, "going")

    return script


async def answer_each(connection: ServerConnection, server: Server) -> None:
    """Answer each request with a final step 2; leave ``hang`` and ``beeflow.cancel`` unanswered."""
    async for message in connection:
        request = json.loads(message)
        server.received[-1].append(request)
        if request["action"] not in ("hang", "beeflow.cancel"):
            await connection.send(step(request["req_id"], True, 2))


def numbers(events: list[ReceivedEvent]) -> list[int]:
    return [event.payload["n"] for event in events]


async def test_a_retried_request_is_sent_again_unchanged_after_the_resume_step_with_every_event() -> None:
    async with scripted(lose_after(3, shut=True), answer_each) as server:

        async def rejoin(client: Client) -> None:
            await client.request("join")

        async with Client(server.url, before_resume=rejoin, queue_limit=1, **FAST) as client:
            first = asyncio.create_task(client.request("first", {"n": 1}, retry=True))
            plain = asyncio.create_task(client.request("plain"))
            second = asyncio.create_task(client.request("second", retry=True))
            with pytest.raises(ConnectionLost):
                await plain
            offline = asyncio.create_task(client.request("offline"))  # the one place of the queue
            await asyncio.sleep(0.05)
            server.door_open = True
            answers = await asyncio.wait_for(asyncio.gather(first, second, offline), 5)

    assert [numbers(events) for events in answers] == [[1, 2], [1, 2], [2]]
    assert server.actions(1) == ["join", "first", "second", "offline"]
    lost = {request["action"]: request for request in server.received[0]}
    assert server.received[1][1:3] == [lost["first"], lost["second"]]  # the same msg_id, req_id, payload


async def test_a_stream_made_with_retry_goes_on_with_the_new_attempt_s_events() -> None:
    async with scripted(lose_after(1), answer_each) as server, Client(server.url, **FAST) as client:
        streamed = [event async for event in client.stream("watch", retry=True)]

    assert numbers(streamed) == [1, 2]
    assert server.received[1] == server.received[0]


async def test_the_timeout_spans_the_reconnect_and_a_request_sent_again_is_cancelled_there() -> None:
    async def late_loss(connection: ServerConnection, server: Server) -> None:
        await server.read(connection)
        await asyncio.sleep(0.3)
        await connection.close(1011, "going")

    async with scripted(late_loss, answer_each) as server, Client(server.url, **FAST) as client:
        began = asyncio.get_running_loop().time()
        with pytest.raises(RequestTimeout):
            await client.request("hang", retry=True, timeout=0.6)
        took = asyncio.get_running_loop().time() - began
        async with asyncio.timeout(5):
            while len(server.received[1]) < 2:  # noqa: ASYNC110 - polls another side
                await asyncio.sleep(0.01)

    assert took < 0.85  # one timeout from the start, not a fresh one after the reconnect (0.9 s and more)
    (hang,) = server.received[0]
    assert server.received[1] == [hang, {**server.received[1][1], "action": "beeflow.cancel"}]
    assert server.received[1][1]["payload"] == {"req_id": hang["req_id"]}


async def test_giving_up_while_waiting_to_be_sent_again_sends_nothing() -> None:
    lose = lose_after(2, shut=True)
    async with scripted(lose, answer_each) as server, Client(server.url, **FAST) as client:
        timed = asyncio.create_task(client.request("timed", retry=True, timeout=0.3))

        async def watch() -> None:
            async for _ in client.stream("watch", retry=True):
                pass

        watching = asyncio.create_task(watch())
        await client.wait_status("reconnecting", 5)
        with pytest.raises(RequestTimeout):
            await timed
        watching.cancel()
        with pytest.raises(asyncio.CancelledError):
            await watching
        server.door_open = True
        await client.wait_status("open", 5)
        await client.request("probe")

    assert server.actions(0) == ["timed", "watch"]
    assert server.actions(1) == ["probe"]  # neither again, nor a beeflow.cancel for either


async def test_the_server_s_duplicate_request_says_what_became_of_the_first_attempt() -> None:
    async def duplicate(connection: ServerConnection, server: Server) -> None:
        request = await server.read(connection)
        await connection.send(
            frame(request["req_id"], True, type="about:blank", title="Request already made", status=409,
                  code="duplicate_request", detail="d", instance="/ws/", outcome="interrupted")
        )  # fmt: skip
        await connection.wait_closed()

    async with scripted(lose_after(1), duplicate) as server, Client(server.url, **FAST) as client:
        with pytest.raises(ProblemError) as refused:
            await client.request("pay", retry=True)

    answer = refused.value
    assert (answer.code, answer.status, answer.outcome) == ("duplicate_request", 409, "interrupted")
    assert answer.problem["outcome"] == "interrupted"
    assert answer.req_id == server.received[0][0]["req_id"]


@pytest.mark.parametrize(
    ("ending", "error"),
    [("kicked", ConnectionLost), ("closed", ClientClosed), ("signed out", ClientClosed)],
)
async def test_a_retried_request_fails_when_the_client_closes_for_good(
    ending: str, error: type[Exception]
) -> None:
    tokens = iter(["t", None])

    async def get_token() -> str | None:
        return next(tokens)

    script = lose_after(1, 4409) if ending == "kicked" else lose_after(1, shut=ending == "closed")
    async with scripted(script, answer_each) as server:
        client = Client(server.url, get_token=get_token, **FAST)
        async with client:
            request = asyncio.create_task(client.request("pay", retry=True, timeout=None))
            if ending == "closed":
                await client.wait_status("reconnecting", 5)
                await client.close()
            with pytest.raises(error):
                await asyncio.wait_for(request, 5)

    assert client.status == "closed"
    assert len(server.received) == 1  # never sent again
