"""One behaviour on three adapters: the same frames in, the same frames out.

Every case runs against each adapter's test site on its real server (Django under daphne, FastAPI
under uvicorn, Flask under gunicorn's threaded worker) with a real WebSocket client speaking raw
frames. Frames are compared across adapters after ``msg_id`` values and the connection's own id are
replaced by placeholders: they must be identical. Each case also states what the frames must be.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid5

import anyio
import pytest
from websockets.asyncio.client import ClientConnection, connect

from serving import Server

pytestmark = [pytest.mark.anyio, pytest.mark.integration]

ORIGIN = "http://127.0.0.1"
NAMESPACE = UUID("6f6b6f6e-6265-6566-6c6f-770000000000")
BASE = "https://example.com/problems/websocket"


def req(case: str, n: int = 0) -> str:
    """A fixed req_id per case and step, so frames compare without normalising it."""
    return str(uuid5(NAMESPACE, f"{case}/{n}"))


def envelope(case: str, action: str, payload: Any = None, n: int = 0, **members: Any) -> str:
    message = {"msg_id": str(uuid5(NAMESPACE, f"msg/{case}/{n}")), "req_id": req(case, n), "action": action}
    message["payload"] = {} if payload is None else payload
    return json.dumps(message | members)


@dataclass(frozen=True)
class Step:
    frame: str | bytes
    answers: int = 1


@dataclass(frozen=True)
class Case:
    name: str
    steps: Sequence[Step]
    expected: Sequence[str]
    """For each answer: the event name, or the error code."""


TOO_DEEP = '{"a":' + "[" * 10_000 + "]" * 10_000 + "}"
OVERSIZED = '{"pad": "' + "x" * (1024 * 1024) + '"}'

CASES = [
    Case("health", [Step(envelope("health", "health"))], ["health"]),
    Case(
        "echo",
        [
            Step(
                envelope(
                    "echo", "echo", {"text": "zażółć gęślą jaźń", "nested": {"list": [1, 2.5, None, True]}}
                )
            )
        ],
        ["echoed"],
    ),
    Case("countdown", [Step(envelope("countdown", "countdown", {"from": 4}), answers=4)], ["counted"] * 4),
    Case(
        "unknown-action", [Step(envelope("unknown-action", "launch-rockets"))], ["unknown_websocket_action"]
    ),
    Case(
        "failing-action", [Step(envelope("failing-action", "fail"), answers=2)], ["echoed", "internal_error"]
    ),
    Case(
        "typed-action",
        [Step(envelope("typed-action", "reserve", {"seat": "12A", "passengers": "2", "day": "2026-12-24"}))],
        ["reserved"],
    ),
    Case(
        "typed-action-invalid-payload",
        [Step(envelope("typed-action-invalid-payload", "reserve", {"seat": "99Z", "passengers": 0}))],
        ["invalid_action_payload"],
    ),
    Case("domain-error", [Step(envelope("domain-error", "refuse"), answers=2)], ["echoed", "seat_taken"]),
    Case("oversized-frame", [Step(OVERSIZED)], ["message_too_large"]),
    Case(
        "sequence-across-requests",
        [
            Step(envelope("sequence-across-requests", "countdown", {"from": 2}, n=0), answers=2),
            Step("not json"),
            Step(envelope("sequence-across-requests", "health", n=1)),
        ],
        ["counted", "counted", "invalid_websocket_message", "health"],
    ),
    *[
        Case(f"bad-input-{name}", [Step(frame)], ["invalid_websocket_message"])
        for name, frame in {
            "not-json": "not json",
            "empty": "",
            "nan": '{"msg_id": NaN}',
            "trailing-data": '{"a": 1} {"b": 2}',
            "too-deep": TOO_DEEP,
            "binary-not-utf8": b"\xc3\x28",
            "binary-not-json": b"GIF89a",
            "array": "[]",
            "number": "3",
            "string": '"health"',
            "null": "null",
            "boolean": "false",
            "empty-object": "{}",
            "bad-req-id": envelope("bad", "health", req_id="nope"),
            "null-msg-id": envelope("bad", "health", msg_id=None),
            "empty-action": envelope("bad", ""),
            "blank-action": envelope("bad", "   "),
            "number-action": envelope("bad", 7),
            "list-payload": envelope("bad", "health", [1]),
            "null-payload": envelope("bad", "health", payload=None, n=0).replace(
                '"payload": {}', '"payload": null'
            ),
            "missing-fields": json.dumps({"req_id": req("bad"), "action": "health"}),
        }.items()
    ],
]

CASE = {case.name: case for case in CASES}


def normalise(frame: dict[str, Any], connection_id: str) -> dict[str, Any]:
    """Replace what differs by nature between runs: msg_id, and this connection's id."""
    assert UUID(frame.pop("msg_id")).version == 4
    text = json.dumps(frame, sort_keys=False).replace(json.dumps(connection_id)[1:-1], "<connection>")
    normalised: dict[str, Any] = json.loads(text)
    return normalised


async def open_client(server: Server) -> tuple[ClientConnection, str]:
    ws = await connect(
        server.url(), origin=ORIGIN, subprotocols=["access-token", "user-1"], open_timeout=10, max_size=None
    )  # type: ignore[list-item]
    await ws.send(envelope("whoami", "whoami"))
    identity = json.loads(await ws.recv())
    return ws, str(identity["payload"]["websocket_id"])


async def run(server: Server, case: Case) -> list[dict[str, Any]]:
    ws, connection_id = await open_client(server)
    frames = []
    try:
        for step in case.steps:
            await ws.send(step.frame)
            frames += [normalise(json.loads(await ws.recv()), connection_id) for _ in range(step.answers)]
    finally:
        await ws.close()
    return frames


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
async def test_every_adapter_answers_with_the_same_frames(sites: dict[str, Server], case: Case) -> None:
    by_adapter = {name: await run(server, case) for name, server in sites.items()}

    reference = by_adapter["fastapi"]
    for name, frames in by_adapter.items():
        assert frames == reference, f"{name} differs from fastapi in case {case.name}"
    assert [frame.get("event", frame.get("code")) for frame in reference] == list(case.expected)
    for frame in reference:
        if "code" in frame:
            assert "seq" not in frame
            assert frame["instance"] == "/ws/"
            assert frame["type"].startswith(f"{BASE}/")
            assert "Traceback" not in json.dumps(frame)
        else:
            assert frame["recipient"] == "websocket"
            assert frame["recipient_id"] == "<connection>"
    events = [frame["seq"] for frame in reference if "event" in frame]
    assert events == list(range(2, 2 + len(events)))  # whoami took seq 1


async def test_the_expected_frames_of_the_typed_and_domain_cases(sites: dict[str, Server]) -> None:
    reserved = (await run(sites["django"], CASE["typed-action"]))[0]
    invalid = (await run(sites["flask"], CASE["typed-action-invalid-payload"]))[0]
    refused = (await run(sites["fastapi"], CASE["domain-error"]))[1]

    assert reserved["payload"] == {
        "seat": "12A",
        "passengers": 2,
        "day": "2026-12-24",
        "id": "00000000-0000-0000-0000-000000000002",
    }
    assert (invalid["status"], invalid["req_id"]) == (422, req("typed-action-invalid-payload"))
    assert [error["loc"] for error in invalid["errors"]] == [
        ["payload", "seat"],
        ["payload", "passengers"],
        ["payload", "day"],
    ]
    assert refused == {
        "req_id": req("domain-error"),
        "type": f"{BASE}/seat-taken",
        "title": "Seat already taken",
        "status": 409,
        "detail": "Seat 12A was booked by someone else.",
        "code": "seat_taken",
        "instance": "/ws/",
        "seat": "12A",
    }


async def test_a_client_leaving_mid_action_closes_the_action_on_every_adapter(
    sites: dict[str, Server],
) -> None:
    first_frames = {}
    for name, server in sites.items():
        start = len(server.output())
        ws, connection_id = await open_client(server)
        await ws.send(envelope("mid-action", "linger"))
        first_frames[name] = normalise(json.loads(await ws.recv()), connection_id)
        await ws.close()
        marker = f"linger {req('mid-action')} closed by its finally block"
        with anyio.fail_after(10):
            while marker not in server.output()[start:]:  # noqa: ASYNC110 - another process's log file
                await anyio.sleep(0.05)
        logged = server.output()[start:]
        assert "Traceback" not in logged, f"{name} logged an error for a normal disconnect"
        assert "ERROR" not in logged, f"{name} logged an error for a normal disconnect"

    assert first_frames["django"] == first_frames["fastapi"] == first_frames["flask"]
    assert first_frames["fastapi"]["payload"] == {"lingering": True}


MISBEHAVIOURS = {
    "exit": envelope("misbehave-exit", "misbehave", {"how": "exit"}),
    "interrupt": envelope("misbehave-interrupt", "misbehave", {"how": "interrupt"}),
    "cancelled-elsewhere": envelope("misbehave-cancelled", "misbehave", {"how": "cancelled"}),
    "init-raises": envelope("misbehave-init", "broken-init"),
}


@pytest.mark.parametrize("how", MISBEHAVIOURS)
async def test_a_misbehaving_action_gets_a_500_and_the_service_goes_on(
    sites: dict[str, Server], how: str
) -> None:
    answers = {}
    for name, server in sites.items():
        start = len(server.output())
        ws, connection_id = await open_client(server)
        try:
            await ws.send(MISBEHAVIOURS[how])
            problem = normalise(json.loads(await ws.recv()), connection_id)
            await ws.send(envelope("after", "health"))
            after = json.loads(await ws.recv())
        finally:
            await ws.close()
        fresh, _ = await open_client(server)  # the server, and its event loop, still serve newcomers
        await fresh.close()
        answers[name] = problem
        assert after["event"] == "health", name
        logged = server.output()[start:]
        assert f"connection={connection_id}, user=1" in logged, f"{name} did not name who triggered it"

    assert answers["django"] == answers["fastapi"] == answers["flask"]
    assert answers["fastapi"]["code"] == "internal_error"
    assert answers["fastapi"]["status"] == 500
    assert answers["fastapi"]["req_id"] == json.loads(MISBEHAVIOURS[how])["req_id"]
