"""Each adapter's test site on its real server, driven by a real WebSocket client.

What every adapter must do alike on a live server: round trips, bad input, autodiscovery of the
site's ws/actions.py, reaching another connection of the same process, clean disconnects, and the
access-token handshake.
"""

import json
from contextlib import AbstractAsyncContextManager
from typing import Any

import anyio
import anyio.lowlevel
import pytest
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, InvalidStatus

from serving import Server
from wsclient import connected, receive, request

pytestmark = [pytest.mark.anyio, pytest.mark.integration]

BASE = "https://example.com/problems/websocket"


def client(server: Server, user_id: int = 1) -> AbstractAsyncContextManager[ClientConnection]:
    return connected(server.url(), user_id=user_id)


async def test_health_round_trip_and_the_selected_subprotocol(served: Server) -> None:
    async with client(served, user_id=5) as ws:
        assert ws.subprotocol == "access-token"
        [frame] = await request(ws, "health")
        [identity] = await request(ws, "whoami")

    assert (frame["event"], frame["seq"], frame["payload"]) == ("health", 1, {"status": "ok"})
    assert frame["recipient"] == "websocket"
    assert frame["recipient_id"] == identity["payload"]["websocket_id"]
    assert identity["payload"]["user_id"] == "5"
    assert identity["seq"] == 2


async def test_the_site_s_ws_actions_were_autodiscovered(served: Server) -> None:
    async with client(served) as ws:
        frames = await request(ws, "countdown", {"from": 3}, count=3)

    assert [(f["event"], f["seq"], f["payload"]) for f in frames] == [
        ("counted", 1, {"n": 3}),
        ("counted", 2, {"n": 2}),
        ("counted", 3, {"n": 1}),
    ]


@pytest.mark.parametrize(
    ("frame", "detail"),
    [
        ("not json", "The message is not valid JSON (line 1, column 2)."),
        (b"\xff\xfe", "The binary message is not UTF-8 text."),
        ("[1, 2]", "The message must be a JSON object, got an array."),
        ('{"action": "echo"}', None),
    ],
)
async def test_bad_input_gets_a_problem_and_the_connection_survives(
    served: Server, frame: str | bytes, detail: str | None
) -> None:
    async with client(served) as ws:
        await ws.send(frame)
        error = await receive(ws)
        [echo] = await request(ws, "echo", {"still": "here"})

    assert (error["status"], error["code"]) == (400, "invalid_websocket_message")
    assert error["type"] == f"{BASE}/invalid-message"
    assert error["instance"] == "/ws/"
    if detail:
        assert error["detail"] == detail
    assert (echo["payload"], echo["seq"]) == ({"still": "here"}, 1)


async def test_unknown_and_failing_actions(served: Server) -> None:
    async with client(served) as ws:
        [unknown] = await request(ws, "launch")
        before, failure = await request(ws, "fail", count=2)

    assert (unknown["code"], unknown["type"]) == ("unknown_websocket_action", f"{BASE}/unknown-action")
    assert before["payload"] == {"before": "failure"}
    assert (failure["status"], failure["code"]) == (500, "internal_error")
    assert "secret ingredient" not in json.dumps(failure)
    assert "secret ingredient" in served.output()


async def test_two_connections_of_one_process_reach_each_other(served: Server) -> None:
    async with client(served, user_id=1) as alice, client(served, user_id=2) as bob:
        [bob_identity] = await request(bob, "whoami")
        bob_id = bob_identity["payload"]["websocket_id"]
        [confirmation] = await request(alice, "notify", {"to": bob_id, "text": "hello"})
        notified = await receive(bob)
        [gone] = await request(alice, "notify", {"to": "no-such-connection"})

    assert confirmation["payload"] == {"sent_to": bob_id}
    assert (notified["event"], notified["payload"], notified["seq"]) == ("notified", {"text": "hello"}, 2)
    assert notified["req_id"] == confirmation["req_id"]
    assert gone["payload"] == {"sent_to": "no-such-connection"}


async def test_a_clean_disconnect_logs_no_error(served: Server) -> None:
    start = len(served.output())
    for _ in range(3):
        async with client(served) as ws:
            await request(ws, "health")
    await anyio.sleep(0.3)
    async with client(served) as ws:
        await request(ws, "health")

    logged = served.output()[start:]
    assert "Traceback" not in logged
    assert "ERROR" not in logged


async def test_a_missing_or_bad_token_refuses_the_handshake(served: Server) -> None:
    for subprotocols in (["access-token", "forged"], ["access-token"], None):
        with pytest.raises(InvalidStatus):
            async with connected(served.url(), user_id=None, subprotocols=subprotocols):
                pass


async def test_large_frames_stay_whole_while_the_client_pings_without_pause(served: Server) -> None:
    """The server answers pings (on Flask, from simple-websocket's own thread) while it streams large
    frames: a pong written inside a half-written frame would break the client's framing."""
    text = "p" * 200_000
    async with client(served) as ws:
        pinging = True

        async def ping() -> int:
            sent = 0
            while pinging and sent < 5_000:
                await ws.ping()
                sent += 1
                await anyio.lowlevel.checkpoint()
            return sent

        async with anyio.create_task_group() as group:
            pings: list[int] = []
            group.start_soon(lambda: _collect(ping, pings))
            echoes = [await request(ws, "echo", {"text": text, "n": n}) for n in range(30)]
            pinging = False
        [health] = await request(ws, "health")

    assert [echo["payload"] for [echo] in echoes] == [{"text": text, "n": n} for n in range(30)]
    assert [echo["seq"] for [echo] in echoes] == list(range(1, 31))
    assert health["seq"] == 31
    assert pings[0] > 30


async def _collect(work: Any, into: list[int]) -> None:
    into.append(await work())


async def test_a_compression_bomb_is_cut_off_at_twice_the_limit_and_the_server_goes_on(
    served: Server,
) -> None:
    """100 MiB of zeros deflate to about 100 KB; the server must not inflate them all."""
    if served.name == "django":
        pytest.skip("daphne negotiates no compression: a frame arrives at its own size, which daphne bounds")
    async with client(served) as ws:
        assert ws.response is not None
        assert "permessage-deflate" in ws.response.headers.get("Sec-WebSocket-Extensions", "")
        await ws.send("0" * (100 * 1024 * 1024))
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
    async with client(served) as ws:
        [health] = await request(ws, "health")

    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1009
    assert health["payload"] == {"status": "ok"}


async def test_everyone_but_me_reaches_the_user_s_other_tabs_and_not_the_asker(served: Server) -> None:
    async with client(served, user_id=6) as asker, client(served, user_id=6) as other_tab:
        # Flask-Sock completes the handshake before the route runs: an answer shows the tab is served.
        await request(other_tab, "health")
        [confirmation] = await request(
            asker, "say", {"recipient": "user", "to": "6", "text": "to my other tabs", "others": True}
        )
        said = await receive(other_tab)  # fails within 15 s rather than hang
        [health] = await request(asker, "health")

    assert confirmation["payload"] == {"said": 1}
    assert (said["event"], said["payload"]["text"]) == ("said", "to my other tabs")
    assert health["seq"] == 2  # the asker got its confirmation and its health answer, nothing else
