"""The client's connection rules against a scripted server on loopback.

The conformance suite (tests-integration/clients) runs the client against every adapter; these
cases need a server that misbehaves on purpose: one that selects no subprotocol, skips a ``seq``,
closes with a terminal code, or sends what no server of this library sends.
"""

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.typing import Subprotocol

from beeflow_websocket.client import (
    Backoff,
    Client,
    ClientClosed,
    ConnectionLost,
    Heartbeat,
    LostStream,
    Position,
    ProblemError,
    ProtocolMismatch,
    ReceivedEvent,
    RequestTimeout,
    Status,
    connect,
)

pytestmark = pytest.mark.anyio

type Script = Callable[[ServerConnection, "Scripted"], Awaitable[None]]


class Scripted:
    """What the scripted server saw: its connections, their offered subprotocols, the frames sent."""

    def __init__(self) -> None:
        self.offers: list[list[str]] = []
        self.received: list[dict[str, Any]] = []
        self.url = ""

    @property
    def connections(self) -> int:
        return len(self.offers)


@asynccontextmanager
async def scripted(script: Script, select: str | None = "beeflow.v1") -> AsyncIterator[Scripted]:
    seen = Scripted()

    def choose(connection: ServerConnection, offered: Any) -> Subprotocol | None:
        seen.offers.append(list(offered))
        return Subprotocol(select) if select is not None else None

    async def handler(connection: ServerConnection) -> None:
        await script(connection, seen)

    async with serve(handler, "127.0.0.1", 0, select_subprotocol=choose) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        seen.url = f"ws://127.0.0.1:{port}/"
        yield seen


def frame(seq: int, req_id: str | None, final: bool | None, **members: Any) -> str:
    body: dict[str, Any] = {"msg_id": "m", "req_id": req_id, "seq": seq, **members}
    if final is not None:
        body["final"] = final
    return json.dumps(body)


async def answer_each(connection: ServerConnection, seen: Scripted) -> None:
    """Answer every request with one final event, numbered; record what came."""
    seq = 0
    async for message in connection:
        request = json.loads(message)
        seen.received.append(request)
        if request["action"] in ("beeflow.cancel", "hang"):
            continue
        seq += 1
        await connection.send(frame(seq, request["req_id"], True, event="done", payload=request["payload"]))


FAST: dict[str, Any] = {"backoff": Backoff(0.01, 0.05), "connect_timeout": 2.0, "heartbeat": None}


async def test_it_offers_protocol_v1_and_the_token_never_in_the_url() -> None:
    async with scripted(answer_each) as server, connect(server.url, token="secret-1", **FAST) as client:
        (done,) = await client.request("echo", {"n": 1})

    assert server.offers == [["beeflow.v1", "access-token", "secret-1"]]
    assert "secret" not in server.url
    assert (done.event, done.payload) == ("done", {"n": 1})


async def test_a_server_without_protocol_v1_ends_the_client() -> None:
    async with scripted(answer_each, select=None) as server:
        client = Client(server.url, **FAST)
        with pytest.raises(ClientClosed):
            async with client:
                pass

    assert isinstance(client.closed_because, ProtocolMismatch)
    assert client.status == "closed"
    assert server.connections == 1


@pytest.mark.parametrize("code", [1008, 4401, 4403, 4409])
async def test_a_terminal_close_code_ends_the_client_without_retrying(code: int) -> None:
    async def refuse(connection: ServerConnection, seen: Scripted) -> None:
        await connection.close(code, "no")

    async with scripted(refuse) as server:
        client = Client(server.url, **FAST)
        client.start()
        await client.wait_status("closed", 5)
        await asyncio.sleep(0.2)  # time for attempts it must not make

    assert server.connections == 1
    assert client.close_code == code
    assert str(client.closed_because) == f"the server closed the connection for good ({code}: no)"
    with pytest.raises(ClientClosed):
        await client.request("echo")


async def test_another_close_is_followed_by_a_reconnect_with_a_fresh_token() -> None:
    tokens = iter(["t-1", "t-2", "t-3"])

    async def get_token() -> str:
        return next(tokens)

    async def close_first(connection: ServerConnection, seen: Scripted) -> None:
        if seen.connections == 1:
            await connection.close(1011, "restarting")
        else:
            await answer_each(connection, seen)

    async with scripted(close_first) as server:
        client = Client(server.url, get_token=get_token, **FAST)
        statuses: list[str] = []
        client.on_status(statuses.append)
        async with client:
            async with asyncio.timeout(5):
                while server.connections < 2 or client.status != "open":  # noqa: ASYNC110 - polls another side
                    await asyncio.sleep(0.01)
            await client.request("echo")

    assert [offer[-1] for offer in server.offers][:2] == ["t-1", "t-2"]
    assert "reconnecting" in statuses
    assert statuses[-1] == "closed"


async def test_a_failing_token_source_is_retried_and_one_without_a_user_ends_the_client() -> None:
    calls = 0

    async def flaky() -> str | None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise OSError("the identity provider is down")
        return None if calls > 2 else "t"

    async with scripted(answer_each) as server:
        client = Client(server.url, get_token=flaky, **FAST)
        async with client:
            pass  # open with the second call's token
        restarted = Client(server.url, get_token=flaky, **FAST)
        restarted.start()
        await restarted.wait_status("closed", 5)

    assert calls == 3
    assert server.connections == 1


async def test_gaps_problems_and_stray_frames_are_reported_and_requests_go_on() -> None:
    async def odd(connection: ServerConnection, seen: Scripted) -> None:
        request = json.loads(await connection.recv())
        await connection.send("not json")
        await connection.send("[1, 2]")
        await connection.send(frame(1, request["req_id"], False, event="step", payload={"n": 1}))
        await connection.send(frame(3, request["req_id"], False, type="about:blank", title="Unavailable",
                                    status=503, code="delivery_unavailable", detail="later"))  # fmt: skip
        await connection.send(frame(4, None, None, event="pushed", payload={"text": "hi"}))
        await connection.send(
            frame(5, request["req_id"], True, event="beeflow.complete", payload={"events": 1})
        )
        await connection.wait_closed()

    gaps: list[tuple[int, int]] = []
    problems: list[ProblemError] = []
    pushed: list[ReceivedEvent] = []

    def broken(event: ReceivedEvent) -> None:
        raise RuntimeError("a listener's own bug")

    async with scripted(odd) as server:
        client = Client(
            server.url, on_gap=lambda *pair: gaps.append(pair), on_problem=problems.append, **FAST
        )
        client.on("pushed", broken)
        client.on("*", pushed.append)
        async with client:
            events = await client.request("go")

    assert [event.payload for event in events] == [{"n": 1}]
    assert gaps == [(2, 3)]
    assert [problem.code for problem in problems] == ["delivery_unavailable"]
    assert [event.payload for event in pushed] == [{"text": "hi"}]


async def test_a_request_that_times_out_is_cancelled_on_the_server() -> None:
    async with scripted(answer_each) as server, connect(server.url, **FAST) as client:
        with pytest.raises(RequestTimeout):
            await client.request("hang", timeout=0.1)
        await client.request("echo")

    hang = server.received[0]
    cancels = [request for request in server.received if request["action"] == "beeflow.cancel"]
    assert [cancel["payload"] for cancel in cancels] == [{"req_id": hang["req_id"]}]


async def test_leaving_a_stream_cancels_it_and_an_ended_one_is_not_cancelled() -> None:
    async def two_then_wait(connection: ServerConnection, seen: Scripted) -> None:
        seq = 0
        async for message in connection:
            request = json.loads(message)
            seen.received.append(request)
            if request["action"] == "beeflow.cancel":
                continue
            for n in range(2):
                seq += 1
                last = request["action"] == "short" and n == 1
                await connection.send(frame(seq, request["req_id"], last, event="step", payload={"n": n}))

    async with scripted(two_then_wait) as server, connect(server.url, **FAST) as client:
        async for _ in client.stream("long"):
            break
        short = [event.payload async for event in client.stream("short")]
        await client.request("short")
        await asyncio.sleep(0.1)  # a generator left by break is closed on the loop's next turns

    long = server.received[0]
    cancels = [request["payload"] for request in server.received if request["action"] == "beeflow.cancel"]
    assert cancels == [{"req_id": long["req_id"]}]  # one, for the stream left; none for those ended
    assert [request["action"] for request in server.received].count("short") == 2
    assert short == [{"n": 0}, {"n": 1}]


async def test_the_heartbeat_pings_a_quiet_server_and_drops_a_silent_one() -> None:
    async def silent_after_ping(connection: ServerConnection, seen: Scripted) -> None:
        async for message in connection:
            request = json.loads(message)
            seen.received.append(request)
            if seen.connections > 1:  # the second connection answers its pings
                await connection.send(frame(1, request["req_id"], True, event="beeflow.complete", payload={}))

    async with scripted(silent_after_ping) as server:
        client = Client(server.url, **(FAST | {"heartbeat": Heartbeat(interval=0.1, timeout=0.2)}))
        async with client:
            await client.wait_status("reconnecting", 5)
            await client.wait_status("open", 5)
            await asyncio.sleep(0.5)
            assert client.status == "open"

    assert server.connections == 2
    assert {request["action"] for request in server.received} == {"beeflow.ping"}


def test_a_fixed_token_and_a_token_source_cannot_be_combined() -> None:
    async def source() -> str:
        return "t"

    with pytest.raises(ValueError, match="not both"):
        Client("ws://127.0.0.1:1/", token="t", get_token=source)


def event_frame(seq: int, text: str, offset: int, *, name: str = "~user:1", epoch: str = "e") -> str:
    stream = {"name": name, "epoch": epoch, "offset": offset}
    addressed = {"event": "said", "recipient": "user", "recipient_id": "1"}
    return json.dumps({"msg_id": "m", "seq": seq, "stream": stream, **addressed, "payload": {"text": text}})


async def lost_after_one(connection: ServerConnection) -> None:
    """The first connection: the event at offset 1 of the user's stream, then a loss after a request."""
    await connection.send(event_frame(1, "one", 1))
    await connection.recv()  # the test's request, once the event was heard
    await connection.close(1011, "restarting")


async def test_a_reconnect_rejoins_then_resumes_and_hands_each_missed_event_over_once_in_order() -> None:
    async def resumable(connection: ServerConnection, seen: Scripted) -> None:
        if seen.connections == 1:
            await connection.send(event_frame(1, "one", 1))
            await connection.recv()  # the test's request, once the event was heard
            await connection.close(1011, "restarting")
            return
        await connection.send(event_frame(1, "four, live", 4))  # arrives before the resume is read
        seq = 1
        async for message in connection:
            request = json.loads(message)
            seen.received.append(request)
            if request["action"] == "beeflow.resume":
                for offset, text in ((2, "two"), (3, "three"), (4, "four, replayed")):
                    seq += 1
                    await connection.send(event_frame(seq, text, offset))
                seq += 1
                await connection.send(
                    frame(seq, request["req_id"], True, event="beeflow.complete", payload={"events": 0})
                )
            else:
                seq += 1
                await connection.send(
                    frame(seq, request["req_id"], True, event="done", payload=request["payload"])
                )

    heard: list[str] = []
    first = asyncio.Event()
    async with scripted(resumable) as server:

        async def rejoin(client: Client) -> None:
            await client.request("join", {"group": "room"})

        client = Client(server.url, before_resume=rejoin, **FAST)

        def hear(event: ReceivedEvent) -> None:
            heard.append(event.payload["text"])
            first.set()

        client.on("said", hear)
        async with client:
            await first.wait()
            with pytest.raises(ConnectionLost):
                await client.request("hold on")
            await client.request("later", {"n": 1})  # made offline: sent once the resume has ended

    assert heard == ["one", "two", "three", "four, live"]
    assert [request["action"] for request in server.received] == ["join", "beeflow.resume", "later"]
    assert server.received[1]["payload"] == {"streams": [{"name": "~user:1", "epoch": "e", "offset": 1}]}
    assert client.recovered is True
    assert client.positions == {"~user:1": Position("~user:1", "e", 4)}


async def test_streams_a_resume_cannot_recover_are_handed_to_on_resync_needed() -> None:
    async def unrecoverable(connection: ServerConnection, seen: Scripted) -> None:
        if seen.connections == 1:
            await connection.send(event_frame(1, "one", 1))
            await asyncio.sleep(0.1)
            await connection.close(4410, "missed stream events: resume")
            return
        async for message in connection:
            request = json.loads(message)
            lost = [{"name": "~user:1", "epoch": "f", "offset": 7, "reason": "epoch_changed"}]
            await connection.send(
                frame(1, request["req_id"], True, code="unrecoverable_position", status=409, streams=lost)
            )

    resyncs: list[list[LostStream]] = []
    told = asyncio.Event()
    async with scripted(unrecoverable) as server:

        def resync(lost: list[LostStream]) -> None:
            resyncs.append(lost)
            told.set()

        client = Client(server.url, on_resync_needed=resync, **FAST)
        async with client:
            await asyncio.wait_for(told.wait(), 5)

    assert server.connections == 2  # 4410 is followed by a reconnect
    assert client.recovered is False
    assert resyncs == [[LostStream("~user:1", "f", 7, "epoch_changed")]]
    assert client.positions["~user:1"] == Position("~user:1", "f", 7)


def problem_frame(seq: int, req_id: str, **members: Any) -> str:
    return frame(seq, req_id, True, type="about:blank", title="Unavailable", **members)


class Heard:
    """A ``said`` listener: the texts it heard, and a wait for the n-th."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self._changed = asyncio.Event()

    def __call__(self, event: ReceivedEvent) -> None:
        self.texts.append(event.payload["text"])
        self._changed.set()

    async def reach(self, count: int) -> None:
        async with asyncio.timeout(5):
            while len(self.texts) < count:
                self._changed.clear()
                await self._changed.wait()


async def test_a_rejoin_s_own_copy_hides_no_missed_event_and_a_replay_of_another_request_is_a_push() -> None:
    async def joined_ahead(connection: ServerConnection, seen: Scripted) -> None:
        if seen.connections == 1:
            await lost_after_one(connection)
            return
        seq = 0
        async for message in connection:
            request = json.loads(message)
            seen.received.append(request)
            seq += 1
            if request["action"] == "join":  # the join says so to the user's stream: offset 4, its own copy
                stream = {"name": "~user:1", "epoch": "e", "offset": 4}
                addressed = {"event": "said", "recipient": "user", "recipient_id": "1"}
                joined = frame(
                    seq, request["req_id"], True, stream=stream, **addressed, payload={"text": "joined"}
                )
                await connection.send(joined)
                continue
            replayed = json.loads(event_frame(seq, "two, of an old request", 2))
            await connection.send(json.dumps({**replayed, "req_id": "an-old-request"}))
            seq += 1
            await connection.send(event_frame(seq, "three", 3))
            seq += 1
            await connection.send(frame(seq, request["req_id"], True, event="beeflow.complete", payload={}))
            seq += 1
            await connection.send(event_frame(seq, "five", 5))

    heard = Heard()
    async with scripted(joined_ahead) as server:
        joins: list[list[ReceivedEvent]] = []

        async def rejoin(client: Client) -> None:
            joins.append(await client.request("join", {"group": "room"}))

        client = Client(server.url, before_resume=rejoin, **FAST)
        client.on("said", heard)
        async with client:
            await heard.reach(1)
            with pytest.raises(ConnectionLost):
                await client.request("hold on")
            await heard.reach(4)

    assert [[event.payload for event in events] for events in joins] == [[{"text": "joined"}]]
    assert heard.texts == ["one", "two, of an old request", "three", "five"]
    assert client.positions == {"~user:1": Position("~user:1", "e", 5)}
    assert client.recovered is True


async def test_requests_made_offline_go_right_after_the_resume_is_sent() -> None:
    async def answers_the_resume_last(connection: ServerConnection, seen: Scripted) -> None:
        if seen.connections == 1:
            await lost_after_one(connection)
            return
        resume = json.loads(await connection.recv())
        later = json.loads(await connection.recv())  # the resume is not answered yet
        seen.received += [resume, later]
        await connection.send(frame(1, later["req_id"], True, event="done", payload={}))
        await connection.send(event_frame(2, "two", 2))
        await connection.send(frame(3, resume["req_id"], True, event="beeflow.complete", payload={}))
        await connection.wait_closed()

    heard = Heard()
    async with scripted(answers_the_resume_last) as server:
        client = Client(server.url, **FAST)
        client.on("said", heard)
        async with client:
            await heard.reach(1)
            with pytest.raises(ConnectionLost):
                await client.request("hold on")
            await asyncio.wait_for(client.request("later"), 5)
            await heard.reach(2)

    assert [request["action"] for request in server.received] == ["beeflow.resume", "later"]
    assert heard.texts == ["one", "two"]


async def test_a_failed_resume_hands_over_what_came_keeps_the_positions_and_the_next_reconnect_resumes() -> (
    None
):
    async def fails_then_resumes(connection: ServerConnection, seen: Scripted) -> None:
        if seen.connections == 1:
            await connection.send(event_frame(1, "one", 1))
            await connection.send(event_frame(2, "two", 2))
            await connection.recv()
            await connection.close(1011, "restarting")
            return
        if seen.connections == 2:
            await connection.send(event_frame(1, "four, live", 4))
            request = json.loads(await connection.recv())
            seen.received.append(request)
            await connection.send(event_frame(2, "three, replayed", 3))
            await connection.send(
                problem_frame(3, request["req_id"], status=503, code="delivery_unavailable")
            )
            await asyncio.sleep(0.1)
            await connection.close(4410, "missed stream events: resume")
            return
        request = json.loads(await connection.recv())
        seen.received.append(request)
        await connection.send(frame(1, request["req_id"], True, event="beeflow.complete", payload={}))
        await connection.send(event_frame(2, "five, live", 5))
        await connection.wait_closed()

    heard = Heard()
    problems: list[tuple[str, bool | None]] = []
    async with scripted(fails_then_resumes) as server:

        def problem(error: ProblemError) -> None:
            problems.append((error.code, client.recovered))

        client = Client(server.url, on_problem=problem, **FAST)
        client.on("said", heard)
        async with client:
            await heard.reach(2)
            with pytest.raises(ConnectionLost):
                await client.request("hold on")
            await heard.reach(5)

    assert problems == [("delivery_unavailable", False)]
    assert heard.texts == ["one", "two", "three, replayed", "four, live", "five, live"]
    assert client.recovered is True
    assert [request["payload"]["streams"] for request in server.received] == [
        [{"name": "~user:1", "epoch": "e", "offset": 2}],
        [{"name": "~user:1", "epoch": "e", "offset": 4}],
    ]


async def test_a_connection_lost_during_the_resume_hands_over_what_came_and_resumes_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def drops_the_resume(connection: ServerConnection, seen: Scripted) -> None:
        if seen.connections == 1:
            await lost_after_one(connection)
            return
        request = json.loads(await connection.recv())
        seen.received.append(request)
        if seen.connections == 2:
            await connection.send(event_frame(1, "three, live", 3))
            await connection.send(event_frame(2, "two, replayed", 2))
            await connection.close(1011, "restarting")  # before beeflow.complete
            return
        await connection.send(frame(1, request["req_id"], True, event="beeflow.complete", payload={}))
        await connection.send(event_frame(2, "four, live", 4))
        await connection.wait_closed()

    heard = Heard()
    async with scripted(drops_the_resume) as server:
        client = Client(server.url, **FAST)
        client.on("said", heard)
        async with client:
            await heard.reach(1)
            with pytest.raises(ConnectionLost):
                await client.request("hold on")
            await heard.reach(4)

    assert heard.texts == ["one", "two, replayed", "three, live", "four, live"]
    assert client.recovered is True
    assert "the streams could not be resumed: the connection closed (1011)" in caplog.messages
    assert [request["payload"]["streams"][0]["offset"] for request in server.received] == [1, 3]


async def test_before_resume_runs_on_reconnects_only_and_without_positions_no_resume_is_sent() -> None:
    async def close_first(connection: ServerConnection, seen: Scripted) -> None:
        if seen.connections == 1:
            await connection.recv()
            await connection.close(1011, "restarting")
        else:
            await answer_each(connection, seen)

    async with scripted(close_first) as server:
        calls: list[Status] = []

        async def rejoin(client: Client) -> None:
            calls.append(client.status)
            await client.request("join", {"group": "room"})

        client = Client(server.url, before_resume=rejoin, **FAST)
        async with client:
            assert calls == []
            with pytest.raises(ConnectionLost):
                await client.request("hold on")
            await asyncio.wait_for(client.request("later"), 5)

    assert calls == ["open"]
    assert [request["action"] for request in server.received] == ["join", "later"]
    assert client.recovered is None
    assert client.positions == {}


async def test_a_failing_before_resume_is_logged_and_the_streams_are_resumed_all_the_same(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def resumes(connection: ServerConnection, seen: Scripted) -> None:
        if seen.connections == 1:
            await lost_after_one(connection)
            return
        request = json.loads(await connection.recv())
        seen.received.append(request)
        await connection.send(frame(1, request["req_id"], True, event="beeflow.complete", payload={}))
        await connection.send(event_frame(2, "two", 2))
        await connection.wait_closed()

    async def broken(client: Client) -> None:
        raise RuntimeError("the application's own bug")

    heard = Heard()
    async with scripted(resumes) as server:
        client = Client(server.url, before_resume=broken, **FAST)
        client.on("said", heard)
        async with client:
            await heard.reach(1)
            with pytest.raises(ConnectionLost):
                await client.request("hold on")
            await heard.reach(2)

    assert [request["action"] for request in server.received] == ["beeflow.resume"]
    assert "before_resume failed; the streams are resumed all the same" in caplog.messages
    assert client.recovered is True
