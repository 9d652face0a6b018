"""Resuming streams on every adapter's real server: positions on v1 events, and beeflow.resume.

The sites keep 300 events per stream. Each test connects as a user no other test pushes to, so its
stream starts at offset 1 on every adapter.
"""

import json
from typing import Any

import anyio
import pytest
from websockets.asyncio.client import ClientConnection

from serving import Server
from wsclient import connected, receive, request, send

pytestmark = [pytest.mark.anyio, pytest.mark.integration]


async def said(ws: ClientConnection, count: int) -> list[dict[str, Any]]:
    """The next ``count`` frames, each a ``said`` event."""
    frames = [await receive(ws) for _ in range(count)]
    assert {frame.get("event") for frame in frames} == {"said"}, frames
    return frames


async def resume(ws: ClientConnection, streams: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], str]:
    """Send ``beeflow.resume``; every frame until its terminal one, and its req_id."""
    req_id = await send(ws, "beeflow.resume", {"streams": streams})
    frames = []
    while True:
        frame = await receive(ws)
        frames.append(frame)
        if frame.get("req_id") == req_id and frame.get("final"):
            return frames, req_id


async def test_a_user_s_events_carry_gapless_positions_and_a_reconnect_gets_exactly_the_missed_ones(
    served: Server,
) -> None:
    async with connected(served.url(), user_id=1001, v1=True) as ws:
        await request(ws, "health")  # served: in its user's stream
        for n in range(3):
            await anyio.to_thread.run_sync(served.push, "user", "1001", f"live {n}")
        live = await said(ws, 3)
    for n in range(20):
        await anyio.to_thread.run_sync(served.push, "user", "1001", f"missed {n}")

    last = live[-1]["stream"]
    async with connected(served.url(), user_id=1001, v1=True) as ws:
        frames, req_id = await resume(ws, [last])

    assert [frame["stream"]["offset"] for frame in live] == [1, 2, 3]
    assert {frame["stream"]["name"] for frame in live} == {"~user:1001"}
    replayed = [frame for frame in frames if frame.get("event") == "said"]
    assert [frame["payload"]["text"] for frame in replayed] == [f"missed {n}" for n in range(20)]
    assert [frame["stream"] for frame in replayed] == [
        {"name": "~user:1001", "epoch": last["epoch"], "offset": offset} for offset in range(4, 24)
    ]
    assert [frame["seq"] for frame in frames] == list(range(1, len(frames) + 1))
    resumed, complete = frames[-2:]
    assert (resumed["event"], resumed["req_id"], resumed["final"]) == ("beeflow.resumed", req_id, False)
    assert resumed["payload"] == {
        "stream": "~user:1001",
        "epoch": last["epoch"],
        "offset": 23,
        "replayed": 20,
    }
    assert (complete["event"], complete["payload"]) == ("beeflow.complete", {"events": 1})


async def test_streams_that_cannot_be_resumed_are_listed_in_one_409_and_nothing_of_them_is_sent(
    served: Server,
) -> None:
    async with connected(served.url(), user_id=1002, v1=True) as ws:
        await request(ws, "join", {"group": "resume-room"})
        await anyio.to_thread.run_sync(served.push, "user", "1002", "one")
        [event] = await said(ws, 1)
        epoch = event["stream"]["epoch"]
        lost, _ = await resume(
            ws,
            [
                {"name": "~user:1002", "epoch": "not-this-one", "offset": 1},
                {"name": "~user:1003", "epoch": epoch, "offset": 0},
                {"name": "resume-room", "epoch": "e", "offset": 0},
            ],
        )
        ahead, _ = await resume(ws, [{"name": "~user:1002", "epoch": epoch, "offset": 9}])

    [problem] = lost
    assert (problem["status"], problem["code"], problem["final"]) == (409, "unrecoverable_position", True)
    assert problem["type"] == "https://example.com/problems/websocket/unrecoverable-position"
    assert problem["streams"] == [
        {"name": "~user:1002", "epoch": epoch, "offset": 1, "reason": "epoch_changed"},
        {"name": "~user:1003", "epoch": "", "offset": 0, "reason": "not_a_member"},
        # A group the connection joined, to which nothing was sent yet: it has no epoch.
        {"name": "resume-room", "epoch": "", "offset": 0, "reason": "epoch_changed"},
    ]
    assert ahead[0]["streams"] == [{"name": "~user:1002", "epoch": epoch, "offset": 1, "reason": "ahead"}]


async def test_a_group_joined_again_resumes_and_its_asker_s_own_copy_carries_its_position(
    served: Server,
) -> None:
    async with connected(served.url(), user_id=1004, v1=True) as ws:
        await request(ws, "join", {"group": "resume-group"})
        # The asker is a member: its own copy comes first, with the stream's position.
        [mine, confirmed] = await request(
            ws, "say", {"recipient": "group", "to": "resume-group", "text": "hi"}, count=2
        )
    async with connected(served.url(), user_id=1005, v1=True) as other:
        await request(other, "join", {"group": "resume-group"})
        for n in range(3):
            await request(
                other, "say", {"recipient": "group", "to": "resume-group", "text": f"n{n}"}, count=2
            )
    async with connected(served.url(), user_id=1004, v1=True) as ws:
        await request(ws, "join", {"group": "resume-group"})
        frames, _ = await resume(ws, [mine["stream"]])

    assert mine["stream"]["name"] == "resume-group"
    assert mine["stream"]["offset"] == 1
    assert confirmed["final"] is True
    replayed = [frame for frame in frames if frame.get("event") == "said"]
    assert [(frame["payload"]["text"], frame["stream"]["offset"]) for frame in replayed] == [
        ("n0", 2),
        ("n1", 3),
        ("n2", 4),
    ]
    assert frames[-1]["event"] == "beeflow.complete"


async def test_a_client_of_protocol_0_sees_no_positions(served: Server) -> None:
    async with connected(served.url(), user_id=1006) as ws:
        await request(ws, "health")
        await anyio.to_thread.run_sync(served.push, "user", "1006", "plain")
        [frame] = await said(ws, 1)

    assert "stream" not in frame
    assert list(frame) == ["msg_id", "seq", "event", "recipient", "recipient_id", "payload"]
    assert json.dumps(frame["payload"]) == '{"text": "plain"}'


async def test_a_resume_from_before_a_kick_is_refused(served: Server) -> None:
    async with connected(served.url(), user_id=1007, v1=True) as kicked:
        await request(kicked, "health")
        await anyio.to_thread.run_sync(served.push, "user", "1007", "before")
        [before] = await said(kicked, 1)
        await anyio.to_thread.run_sync(served.post, "/kick/", {"user_id": 1007, "reason": "signed out"})
        with anyio.fail_after(10):
            await kicked.wait_closed()
    async with connected(served.url(), user_id=1007, v1=True) as ws:
        [refused], _ = await resume(ws, [before["stream"]])

    assert kicked.close_code == 4409
    assert refused["streams"] == [
        {"name": "~user:1007", "epoch": before["stream"]["epoch"], "offset": 2, "reason": "kicked"}
    ]
