"""The demo that `make demo` serves, on uvicorn: the page, each action, and the HTTP push."""

import asyncio
import json
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from serving import Server, demo_command, free_port, start_server

pytestmark = [pytest.mark.anyio, pytest.mark.integration]

PROBLEMS = "https://example.com/problems/websocket"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    port = free_port()
    server = start_server("demo", demo_command(port), tmp_path_factory.mktemp("demo") / "server.log", port)
    yield server
    server.stop()


@dataclass
class Tab:
    """One open connection of the demo, as a browser tab holds it."""

    ws: ClientConnection
    websocket_id: str
    seq: int = 1

    async def send(self, action: str, payload: dict[str, Any]) -> str:
        req_id = str(uuid4())
        frame = {"msg_id": str(uuid4()), "req_id": req_id, "action": action, "payload": payload}
        await self.ws.send(json.dumps(frame))
        return req_id

    async def receive(self) -> dict[str, Any]:
        """The next frame without its msg_id (checked to be a UUID); events must come numbered in order."""
        frame: dict[str, Any] = json.loads(await asyncio.wait_for(self.ws.recv(), 5))
        UUID(frame.pop("msg_id"))
        if "event" in frame:
            self.seq += 1
            assert frame["seq"] == self.seq
        return frame

    async def assert_nothing_else(self) -> None:
        """Nothing else was sent to this tab: a whoami asked now is answered next."""
        req_id = await self.send("whoami", {})
        assert (await self.receive())["req_id"] == req_id


@asynccontextmanager
async def tab(demo: Server, token: str) -> AsyncIterator[Tab]:
    """A connection with the token, which has asked whoami (its event seq 1) to learn its id."""
    async with connect(demo.url(), subprotocols=["access-token", token]) as ws:
        unknown = Tab(ws, websocket_id="", seq=0)
        req_id = await unknown.send("whoami", {})
        identity = await unknown.receive()
        assert identity["req_id"] == req_id
        yield Tab(ws, identity["recipient_id"])


def event(
    name: str, recipient: str, recipient_id: object, seq: int, req_id: str | None, **payload: Any
) -> dict[str, Any]:
    frame = {"event": name, "recipient": recipient, "recipient_id": str(recipient_id), "seq": seq}
    if req_id is not None:
        frame["req_id"] = req_id
    return frame | {"payload": payload}


async def post(demo: Server, path: str, body: dict[str, Any]) -> int:
    """POST ``body`` as JSON to the demo; return the status code."""

    def send() -> int:
        request = urllib.request.Request(
            f"http://127.0.0.1:{demo.port}{path}",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - a loopback http URL
                return int(response.status)
        except urllib.error.HTTPError as error:
            return error.code

    return await asyncio.to_thread(send)


def test_the_page_is_served_with_the_typescript_client_it_talks_through(
    demo: Server, repository: Path
) -> None:
    with urllib.request.urlopen(f"http://127.0.0.1:{demo.port}/", timeout=10) as response:
        page = response.read().decode()
    with urllib.request.urlopen(f"http://127.0.0.1:{demo.port}/client/index.js", timeout=10) as response:
        client = response.read().decode()

    assert page == (repository / "examples" / "demo" / "static" / "index.html").read_text()
    assert 'await import("/client/index.js")' in page
    assert "new BeeflowClient(url, {" in page
    assert client == (repository / "clients" / "typescript" / "dist" / "index.js").read_text()


def test_the_page_links_the_rendered_contract_which_the_demo_serves(demo: Server) -> None:
    with urllib.request.urlopen(f"http://127.0.0.1:{demo.port}/", timeout=10) as response:
        page = response.read().decode()
    with urllib.request.urlopen(f"http://127.0.0.1:{demo.port}/asyncapi", timeout=10) as response:
        contract_page = response.read().decode()
    with urllib.request.urlopen(f"http://127.0.0.1:{demo.port}/asyncapi.json", timeout=10) as response:
        document = json.loads(response.read())

    assert '<a id="contract" href="asyncapi"' in page
    assert "<asyncapi-component" in contract_page
    assert document["info"]["title"] == "Beeflow WebSocket demo"
    assert {"countdown", "room.say", "user.say", "whoami"} <= set(document["operations"])


async def test_whoami_names_the_user_the_connection_and_its_rooms(demo: Server) -> None:
    async with tab(demo, "demo-bob") as bob:
        await bob.send("room.join", {"room": "kitchen"})
        await bob.receive()
        req_id = await bob.send("whoami", {})

        assert await bob.receive() == event(
            "identity", "websocket", bob.websocket_id, 3, req_id,
            user_id=2, websocket_id=bob.websocket_id, rooms=["kitchen"],
        )  # fmt: skip


async def test_countdown_streams_one_event_every_half_second(demo: Server) -> None:
    async with tab(demo, "demo-alice") as alice:
        req_id = await alice.send("countdown", {"start": 2})
        started = time.monotonic()
        ticks = [await alice.receive() for _ in range(3)]
        elapsed = time.monotonic() - started

    assert ticks == [
        event("countdown.tick", "websocket", alice.websocket_id, seq, req_id, remaining=remaining)
        for seq, remaining in [(2, 2), (3, 1), (4, 0)]
    ]
    assert elapsed >= 0.9


async def test_a_payload_that_does_not_fit_is_a_422_naming_each_field(demo: Server) -> None:
    async with tab(demo, "demo-alice") as alice:
        req_id = await alice.send("room.say", {"room": "Main Hall!", "text": ""})
        problem = await alice.receive()
        countdown_req_id = await alice.send("countdown", {"start": "soon"})
        countdown_problem = await alice.receive()
        await alice.assert_nothing_else()

    assert problem == {
        "req_id": req_id,
        "type": f"{PROBLEMS}/invalid-action-payload",
        "title": "Invalid action payload",
        "status": 422,
        "detail": "Invalid payload for action 'room.say': payload.room string should match pattern "
        "'^[a-z0-9-]{1,30}$'; payload.text string should have at least 1 character.",
        "code": "invalid_action_payload",
        "instance": "/ws/",
        "errors": [
            {
                "loc": ["payload", "room"],
                "msg": "String should match pattern '^[a-z0-9-]{1,30}$'",
                "type": "string_pattern_mismatch",
            },
            {
                "loc": ["payload", "text"],
                "msg": "String should have at least 1 character",
                "type": "string_too_short",
            },
        ],
    }
    assert (countdown_problem["req_id"], countdown_problem["errors"]) == (
        countdown_req_id,
        [
            {
                "loc": ["payload", "start"],
                "msg": "Input should be a valid integer, unable to parse string as an integer",
                "type": "int_parsing",
            }
        ],
    )


async def test_a_room_reaches_every_tab_in_it_and_no_other(demo: Server) -> None:
    async with (
        tab(demo, "demo-alice") as alice,
        tab(demo, "demo-alice") as alice_elsewhere,
        tab(demo, "demo-bob") as bob,
    ):
        alice_joins = await alice.send("room.join", {"room": "lobby"})
        alice_joined = await alice.receive()
        bob_joins = await bob.send("room.join", {"room": "lobby"})
        bob_joined = [await alice.receive(), await bob.receive()]
        says = await alice.send("room.say", {"room": "lobby", "text": "hello room"})
        said = [await alice.receive(), await bob.receive()]
        refused = await alice_elsewhere.send("room.say", {"room": "lobby", "text": "let me in"})
        not_in_room = await alice_elsewhere.receive()
        bob_leaves = await bob.send("room.leave", {"room": "lobby"})
        bob_left = [await alice.receive(), await bob.receive()]
        await alice.send("room.say", {"room": "lobby", "text": "alone"})
        await alice.receive()
        await bob.assert_nothing_else()
        await alice_elsewhere.assert_nothing_else()

    alice_change = {"room": "lobby", "user_id": 1, "websocket_id": alice.websocket_id}
    bob_change = {"room": "lobby", "user_id": 2, "websocket_id": bob.websocket_id}
    assert alice_joined == event("room.joined", "group", "room:lobby", 2, alice_joins, **alice_change)
    assert bob_joined == [
        event("room.joined", "group", "room:lobby", 3, bob_joins, **bob_change),
        event("room.joined", "group", "room:lobby", 2, bob_joins, **bob_change),
    ]
    message = {"room": "lobby", "user_id": 1, "text": "hello room"}
    assert said == [
        event("room.message", "group", "room:lobby", 4, says, **message),
        event("room.message", "group", "room:lobby", 3, says, **message),
    ]
    assert not_in_room == {
        "req_id": refused,
        "type": f"{PROBLEMS}/not-in-room",
        "title": "Not in the room",
        "status": 403,
        "detail": "Join the room 'lobby' first.",
        "code": "not_in_room",
        "instance": "/ws/",
        "room": "lobby",
    }
    assert bob_left == [
        event("room.left", "group", "room:lobby", 5, bob_leaves, **bob_change),
        event("room.left", "group", "room:lobby", 4, bob_leaves, **bob_change),
    ]


async def test_the_user_recipient_reaches_every_tab_of_that_user(demo: Server) -> None:
    async with (
        tab(demo, "demo-alice") as alice,
        tab(demo, "demo-alice") as alice_elsewhere,
        tab(demo, "demo-bob") as bob,
    ):
        to_herself = await alice.send("user.say", {"text": "to all my tabs"})
        her_tabs = [await alice.receive(), await alice_elsewhere.receive()]
        await bob.assert_nothing_else()
        to_bob = await alice.send("user.say", {"text": "hi bob", "user_id": 2})
        bobs_tab = await bob.receive()
        await alice.assert_nothing_else()

    assert her_tabs == [
        event("user.message", "user", 1, 2, to_herself, from_user_id=1, text="to all my tabs"),
        event("user.message", "user", 1, 2, to_herself, from_user_id=1, text="to all my tabs"),
    ]
    assert bobs_tab == event("user.message", "user", 2, 3, to_bob, from_user_id=1, text="hi bob")


async def test_the_http_endpoints_push_to_a_user_and_to_a_room(demo: Server) -> None:
    async with (
        tab(demo, "demo-alice") as alice,
        tab(demo, "demo-alice") as alice_elsewhere,
        tab(demo, "demo-bob") as bob,
    ):
        await bob.send("room.join", {"room": "attic"})
        await bob.receive()
        to_alice = await post(demo, "/users/1/notices", {"text": "your order shipped"})
        alice_tabs = [await alice.receive(), await alice_elsewhere.receive()]
        to_attic = await post(demo, "/rooms/attic/notices", {"text": "mind the stairs"})
        attic = await bob.receive()
        refused = await post(demo, "/rooms/Attic!/notices", {"text": ""})
        for connection in (alice, alice_elsewhere, bob):
            await connection.assert_nothing_else()

    assert (to_alice, to_attic, refused) == (204, 204, 422)
    shipped = {"text": "your order shipped", "via": "POST /users/1/notices"}
    assert alice_tabs == [event("notice", "user", 1, 2, None, **shipped)] * 2
    assert attic == event(
        "notice", "group", "room:attic", 3, None, text="mind the stairs", via="POST /rooms/attic/notices"
    )


async def test_an_unknown_token_is_refused(demo: Server) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(demo.url(), subprotocols=["access-token", "forged"]):
            pass

    assert refused.value.response.status_code == 403
