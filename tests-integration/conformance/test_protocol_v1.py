"""Protocol v1 on three adapters: the handshake, one terminal frame per request, cancel, ping, timeouts.

A client that offers ``beeflow.v1`` gets it selected, whatever the order of its offer, and every
request it sends ends with exactly one frame marked ``"final": true``, the last of that request. The
frames must be the same on every adapter, after ``msg_id`` and the connection's id are normalised.
A client that does not offer it keeps the 0.3.0 frames (``test_conformance.py``).
"""

import json
from typing import Any
from uuid import uuid4

import anyio
import pytest
from websockets.asyncio.client import ClientConnection
from websockets.typing import Subprotocol

from serving import Server
from wsclient import connected, envelope, receive

pytestmark = [pytest.mark.anyio, pytest.mark.integration]

type Frame = dict[str, Any]

OFFERS = {
    "v1 first": ["beeflow.v1", "access-token", "user-1"],
    "v1 last": ["access-token", "user-1", "beeflow.v1"],
}


def v1_connection(server: Server, offer: str = "v1 last") -> Any:
    return connected(server.url(), subprotocols=[Subprotocol(name) for name in OFFERS[offer]], max_size=None)


async def identify(ws: ClientConnection) -> str:
    message = envelope("whoami")
    await ws.send(json.dumps(message))
    frames = await until_final(ws, {str(message["req_id"])})
    return str(frames[str(message["req_id"])][0]["payload"]["websocket_id"])


async def until_final(ws: ClientConnection, req_ids: set[str]) -> dict[str, list[Frame]]:
    """Read until each of ``req_ids`` has had its terminal frame; the frames of each, in order."""
    frames: dict[str, list[Frame]] = {req_id: [] for req_id in req_ids}
    waiting = set(req_ids)
    while waiting:
        frame = await receive(ws)
        req_id = frame.get("req_id")
        assert req_id in frames, f"a frame of no request of this test: {frame}"
        assert req_id in waiting, f"a frame after the terminal frame of {req_id}: {frame}"
        frames[req_id].append(frame)
        if frame["final"] is True:
            waiting.discard(req_id)
    return frames


def shape(frames: list[Frame], connection_id: str) -> list[Frame]:
    """The frames without what differs by nature: msg_id, req_id, and this connection's id."""
    text = json.dumps([{k: v for k, v in f.items() if k not in ("msg_id", "req_id")} for f in frames])
    normalised: list[Frame] = json.loads(text.replace(connection_id, "<connection>"))
    return normalised


def assert_terminal_last(frames: list[Frame]) -> None:
    assert [frame["final"] for frame in frames] == [False] * (len(frames) - 1) + [True], frames


CASES: dict[str, tuple[str, Any, list[tuple[str, bool]]]] = {
    "health": ("health", {}, [("health", True)]),
    "countdown": ("countdown", {"from": 4}, [("counted", False)] * 3 + [("counted", True)]),
    "stream": ("stream", {"count": 3}, [("streamed", False)] * 3 + [("beeflow.complete", True)]),
    "no events": ("stream", {"count": 0}, [("beeflow.complete", True)]),
    "unknown action": ("launch-rockets", {}, [("unknown_websocket_action", True)]),
    "invalid payload": ("reserve", {"seat": "99Z"}, [("invalid_action_payload", True)]),
    "failing": ("fail", {}, [("echoed", False), ("internal_error", True)]),
    "domain error": ("refuse", {}, [("echoed", False), ("seat_taken", True)]),
    "timed out": ("slow", {}, [("echoed", False), ("action_timeout", True)]),
    "ping": ("beeflow.ping", {}, [("beeflow.complete", True)]),
    "cancel of nothing": ("beeflow.cancel", {"req_id": str(uuid4())}, [("unknown_request", True)]),
    "bad cancel": ("beeflow.cancel", {"req_id": "nope"}, [("invalid_action_payload", True)]),
}


@pytest.mark.parametrize("case", CASES)
async def test_every_request_ends_with_one_terminal_frame_the_same_on_every_adapter(
    sites: dict[str, Server], case: str
) -> None:
    action, payload, expected = CASES[case]
    shapes = {}
    for name, server in sites.items():
        async with v1_connection(server) as ws:
            assert ws.subprotocol == "beeflow.v1", name
            connection_id = await identify(ws)
            message = envelope(action, payload)
            await ws.send(json.dumps(message))
            frames = (await until_final(ws, {str(message["req_id"])}))[str(message["req_id"])]
        assert_terminal_last(frames)
        assert [(frame.get("event", frame.get("code")), frame["final"]) for frame in frames] == expected, name
        shapes[name] = shape(frames, connection_id)

    assert shapes["django"] == shapes["fastapi"] == shapes["flask"]


@pytest.mark.parametrize("offer", OFFERS)
async def test_the_handshake_selects_beeflow_v1_whatever_the_order(served: Server, offer: str) -> None:
    async with v1_connection(served, offer) as ws:
        assert ws.subprotocol == "beeflow.v1"
    async with connected(served.url()) as ws:
        assert ws.subprotocol == "access-token"


async def test_a_frame_without_a_readable_req_id_is_answered_without_final(served: Server) -> None:
    async with v1_connection(served) as ws:
        await ws.send("not json")
        problem = await receive(ws)

    assert problem["code"] == "invalid_websocket_message"
    assert "final" not in problem


async def test_a_0_3_0_client_is_told_the_reserved_actions_do_not_exist(served: Server) -> None:
    async with connected(served.url()) as ws:
        await ws.send(json.dumps(envelope("beeflow.ping")))
        problem = await receive(ws)

    assert problem["code"] == "unknown_websocket_action"
    assert "final" not in problem


async def test_cancel_stops_a_stream_and_its_finally_runs_on_every_adapter(served: Server) -> None:
    async with v1_connection(served) as ws:
        stream = envelope("stream", {"count": 50, "interval": 0.01})
        stream_id = str(stream["req_id"])
        await ws.send(json.dumps(stream))
        for n in range(5):
            frame = await receive(ws)
            assert (frame["req_id"], frame["payload"], frame["final"]) == (stream_id, {"n": n}, False)
        cancel = envelope("beeflow.cancel", {"req_id": stream_id})
        await ws.send(json.dumps(cancel))
        frames = await until_final(ws, {stream_id, str(cancel["req_id"])})
        # Anything of the stream still on its way would arrive now, and fail the test.
        with anyio.move_on_after(0.1):
            late = await ws.recv()
            pytest.fail(f"a frame after both terminal frames: {late}")

    terminal = frames[stream_id][-1]
    assert (terminal["code"], terminal["status"]) == ("request_cancelled", 499)
    assert_terminal_last(frames[stream_id])
    assert len(frames[stream_id]) < 45  # events stopped flowing; at 10 ms apart, 45 would take 0.45 s
    [done] = frames[str(cancel["req_id"])]
    assert (done["event"], done["payload"], done["final"]) == ("beeflow.complete", {"events": 0}, True)
    with anyio.fail_after(10):
        while f"stream {stream_id} closed by its finally block" not in served.output():  # noqa: ASYNC110
            await anyio.sleep(0.02)
