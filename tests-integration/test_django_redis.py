"""Two daphne processes on one Redis (channels-redis): an event crosses from one process to the other."""

from collections.abc import Iterator

import pytest

from serving import Server, django_command, free_port, prepare_django_site, start_server
from wsclient import connected, receive, request

pytestmark = [pytest.mark.anyio, pytest.mark.integration]


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


async def test_an_event_reaches_a_connection_held_by_another_process(
    two_processes: tuple[Server, Server],
) -> None:
    process_a, process_b = two_processes
    async with (
        connected(process_a.url(), user_id=1) as alice,
        connected(process_b.url(), user_id=2) as bob,
    ):
        [bob_identity] = await request(bob, "whoami")
        [alice_identity] = await request(alice, "whoami")
        bob_id, alice_id = bob_identity["payload"]["websocket_id"], alice_identity["payload"]["websocket_id"]
        [confirmation] = await request(alice, "notify", {"to": bob_id, "text": "across processes"})
        notified = await receive(bob)
        [reply] = await request(bob, "notify", {"to": alice_id, "text": "and back"})
        answered = await receive(alice)

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
