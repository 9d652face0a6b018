"""Two daphne processes on one Redis (channels-redis): an event crosses from one process to the other."""

import json
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import pytest
from websockets.asyncio.client import ClientConnection, connect

from serving import Server, django_command, free_port, prepare_django_site, start_server

pytestmark = [pytest.mark.anyio, pytest.mark.integration]

ORIGIN = "http://127.0.0.1"


@pytest.fixture(scope="module")
def two_processes(
    tmp_path_factory: pytest.TempPathFactory, redis_server: Server
) -> Iterator[tuple[Server, Server]]:
    workdir = tmp_path_factory.mktemp("daphne-redis")
    env = prepare_django_site(workdir / "db.sqlite3") | {
        "DJANGOSITE_REDIS_URL": f"redis://127.0.0.1:{redis_server.port}/0"
    }
    servers = []
    for name in ("daphne-a", "daphne-b"):
        port = free_port()
        servers.append(start_server(name, django_command(port), workdir / f"{name}.log", port, env))
    yield servers[0], servers[1]
    for server in servers:
        server.stop()


async def request(ws: ClientConnection, action: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
    message = {"msg_id": str(uuid4()), "req_id": str(uuid4()), "action": action, "payload": payload or {}}
    await ws.send(json.dumps(message))
    frame: dict[str, Any] = json.loads(await ws.recv())
    assert frame["req_id"] == message["req_id"]
    return frame


async def test_an_event_reaches_a_connection_held_by_another_process(
    two_processes: tuple[Server, Server],
) -> None:
    process_a, process_b = two_processes
    async with (
        connect(process_a.url(), origin=ORIGIN, subprotocols=["access-token", "user-1"]) as alice,  # type: ignore[list-item]
        connect(process_b.url(), origin=ORIGIN, subprotocols=["access-token", "user-2"]) as bob,  # type: ignore[list-item]
    ):
        bob_id = (await request(bob, "whoami"))["payload"]["websocket_id"]
        alice_id = (await request(alice, "whoami"))["payload"]["websocket_id"]
        confirmation = await request(alice, "notify", {"to": bob_id, "text": "across processes"})
        notified = json.loads(await bob.recv())
        reply = await request(bob, "notify", {"to": alice_id, "text": "and back"})
        answered = json.loads(await alice.recv())

    assert bob_id != alice_id
    assert confirmation["payload"] == {"sent_to": bob_id}
    assert (notified["event"], notified["payload"], notified["seq"]) == (
        "notified",
        {"text": "across processes"},
        2,
    )
    assert notified["req_id"] == confirmation["req_id"]
    assert reply["payload"] == {"sent_to": alice_id}
    assert (answered["payload"], answered["seq"]) == ({"text": "and back"}, 3)
