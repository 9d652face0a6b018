"""The demo that `make demo` serves, on uvicorn: the page, and each example action."""

import json
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from serving import Server, demo_command, free_port, start_server

pytestmark = [pytest.mark.anyio, pytest.mark.integration]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    port = free_port()
    server = start_server("demo", demo_command(port), tmp_path_factory.mktemp("demo") / "server.log", port)
    yield server
    server.stop()


async def send(ws: ClientConnection, action: str, payload: dict[str, Any]) -> str:
    req_id = str(uuid4())
    await ws.send(
        json.dumps({"msg_id": str(uuid4()), "req_id": req_id, "action": action, "payload": payload})
    )
    return req_id


def test_the_page_is_served_and_connects_with_the_access_token_marker(demo: Server, repository: Path) -> None:
    with urllib.request.urlopen(f"http://127.0.0.1:{demo.port}/", timeout=10) as response:
        page = response.read().decode()

    assert page == (repository / "examples" / "demo" / "static" / "index.html").read_text()
    assert 'new WebSocket(url, ["access-token", $("token").value])' in page


async def test_the_example_actions(demo: Server) -> None:
    async with (
        connect(demo.url(), subprotocols=["access-token", "demo-alice"]) as alice,
        connect(demo.url(), subprotocols=["access-token", "demo-bob"]) as bob,
    ):
        await send(bob, "whoami", {})
        bob_identity = json.loads(await bob.recv())["payload"]
        await send(alice, "countdown", {"from": 2})
        ticks = [json.loads(await alice.recv())["payload"]["remaining"] for _ in range(3)]
        await send(alice, "roll", {"sides": 20})
        rolled = json.loads(await alice.recv())["payload"]
        await send(alice, "roll", {"sides": 1})
        problem = json.loads(await alice.recv())
        await send(alice, "whisper", {"to": bob_identity["websocket_id"], "text": "psst"})
        whispered = json.loads(await bob.recv())

    assert bob_identity["user_id"] == 2
    assert ticks == [2, 1, 0]
    assert 1 <= rolled["result"] <= 20
    assert datetime.fromisoformat(rolled["rolled_at"]).tzinfo is not None
    assert (problem["status"], problem["code"], problem["field"]) == (422, "invalid_demo_payload", "sides")
    assert whispered["payload"] == {"from_user": "1", "from": whispered["payload"]["from"], "text": "psst"}


async def test_an_unknown_token_is_refused(demo: Server) -> None:
    with pytest.raises(InvalidStatus):
        async with connect(demo.url(), subprotocols=["access-token", "forged"]):
            pass
