"""A seeded run of 10,000 mixed requests per adapter: each ends with exactly one terminal frame, last.

Every adapter's real server gets the same plan, drawn from a fixed seed: answered, streamed, raising,
refused, cancelled mid-stream and timed-out requests, pipelined over several connections. For every
request (the cancels included), the client checks that exactly one of its frames carries
``"final": true``, that it came after all the others, that nothing of it arrived afterwards, and
that it is the terminal frame the request's kind must end with.
"""

import asyncio
import json
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from uuid import uuid4

import anyio
import pytest
from websockets.asyncio.client import ClientConnection
from websockets.typing import Subprotocol

from serving import Server
from wsclient import connected

pytestmark = [pytest.mark.anyio, pytest.mark.integration]

type Frame = dict[str, Any]

SEED = 20261203
REQUESTS = 10_000
CONNECTIONS = 12
IN_FLIGHT = 8  # requests a connection has sent and not yet seen end

# kind: (action, payload, the terminal frame's event or code), weight
KINDS: dict[str, tuple[str, Any, str, int]] = {
    "answered": ("health", {}, "health", 20),
    "echoed": ("echo", {"text": "hi"}, "echoed", 10),
    "streamed": ("countdown", {"from": 3}, "counted", 15),
    "stream that waits": ("stream", {"count": 2, "interval": 0.001}, "beeflow.complete", 10),
    "raising": ("fail", {}, "internal_error", 8),
    "domain error": ("refuse", {}, "seat_taken", 7),
    "unknown action": ("launch-rockets", {}, "unknown_websocket_action", 6),
    "invalid payload": ("reserve", {"seat": "99Z"}, "invalid_action_payload", 6),
    "cancelled mid-stream": ("stream", {"count": 50, "interval": 0.002}, "request_cancelled", 10),
    "timed out": ("slow", {}, "action_timeout", 8),
}


@dataclass
class Request:
    kind: str
    frames: list[Frame] = field(default_factory=list)
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    after_end: list[Frame] = field(default_factory=list)


def plan(rng: random.Random, count: int) -> list[str]:
    kinds = list(KINDS)
    return rng.choices(kinds, weights=[KINDS[kind][3] for kind in kinds], k=count)


async def drive(ws: ClientConnection, kinds: list[str]) -> dict[str, Request]:
    """Send ``kinds`` in order, at most IN_FLIGHT at once; cancel each cancellable after its first event."""
    requests: dict[str, Request] = {}
    window = asyncio.Semaphore(IN_FLIGHT)

    async def send(req_id: str, kind: str, action: str, payload: Any) -> None:
        requests[req_id] = Request(kind)
        message = {"msg_id": str(uuid4()), "req_id": req_id, "action": action, "payload": payload}
        await ws.send(json.dumps(message))

    async def read() -> None:
        async for text in ws:
            frame = json.loads(text)
            request = requests.get(frame.get("req_id", ""))
            assert request is not None, f"a frame of no request: {frame}"
            if request.ended.is_set():
                request.after_end.append(frame)
                continue
            request.frames.append(frame)
            if frame.get("final") is True:
                request.ended.set()
                if request.kind != "cancel":
                    window.release()
            elif request.kind == "cancelled mid-stream" and len(request.frames) == 1:
                await send(str(uuid4()), "cancel", "beeflow.cancel", {"req_id": frame["req_id"]})

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(read)
        for kind in kinds:
            await window.acquire()
            action, payload, _, _ = KINDS[kind]
            await send(str(uuid4()), kind, action, payload)
        for request in list(requests.values()):
            await request.ended.wait()
        await anyio.sleep(0.2)  # whatever still came of an ended request would arrive now
        tasks.cancel_scope.cancel()
    return requests


def check(req_id: str, request: Request) -> str:
    """The request's terminal frame, after checking the rule; its event or code."""
    frames = request.frames
    assert request.after_end == [], f"{req_id} ({request.kind}): frames after its terminal frame"
    assert [frame["final"] for frame in frames] == [False] * (len(frames) - 1) + [True], (req_id, frames)
    terminal = frames[-1]
    if terminal.get("event") == "beeflow.complete":
        assert terminal["payload"] == {"events": len(frames) - 1}
    ended_with = str(terminal.get("event", terminal.get("code")))
    if request.kind == "cancel":
        assert ended_with == "beeflow.complete", (req_id, frames)
    else:
        assert ended_with == KINDS[request.kind][2], (req_id, request.kind, frames)
    return ended_with


async def test_ten_thousand_mixed_requests_each_end_with_one_terminal_frame_last(served: Server) -> None:
    rng = random.Random(SEED)
    per_connection = [
        plan(rng, REQUESTS // CONNECTIONS + (i < REQUESTS % CONNECTIONS)) for i in range(CONNECTIONS)
    ]
    offer = [Subprotocol("beeflow.v1"), Subprotocol("access-token"), Subprotocol("user-1")]
    results: list[dict[str, Request]] = [{} for _ in range(CONNECTIONS)]

    async def one(index: int) -> None:
        async with connected(served.url(), subprotocols=offer, max_size=None) as ws:
            assert ws.subprotocol == "beeflow.v1"
            results[index] = await drive(ws, per_connection[index])

    with anyio.fail_after(240):
        async with anyio.create_task_group() as tasks:
            for index in range(CONNECTIONS):
                tasks.start_soon(one, index)

    endings: Counter[str] = Counter()
    for requests in results:
        for req_id, request in requests.items():
            endings[check(req_id, request)] += 1
    planned = Counter(kind for kinds in per_connection for kind in kinds)
    assert sum(planned.values()) == REQUESTS
    assert endings["request_cancelled"] == planned["cancelled mid-stream"]
    assert endings["action_timeout"] == planned["timed out"]
    assert sum(endings.values()) == REQUESTS + planned["cancelled mid-stream"]  # each cancel is a request too
