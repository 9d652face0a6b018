"""Two daphne processes on one Redis: an event crosses from one process to the other, through the
channel layer (channels-redis) or through the adapter's own Redis engine (BEEFLOW_WEBSOCKET_REDIS_URL)."""

from collections.abc import Iterator
from contextlib import AsyncExitStack

import pytest

from serving import Server, django_command, free_port, prepare_django_site, start_server
from wsclient import connected, receive, request

pytestmark = [pytest.mark.anyio, pytest.mark.integration]


ENGINES = {
    "channel-layer": "DJANGOSITE_REDIS_URL",
    "redis-engine": "DJANGOSITE_BEEFLOW_REDIS_URL",
}


@pytest.fixture(scope="module", params=sorted(ENGINES))
def two_processes(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, redis_server: Server
) -> Iterator[tuple[Server, Server]]:
    engine = request.param
    workdir = tmp_path_factory.mktemp(f"daphne-{engine}")
    env = prepare_django_site(workdir / "db.sqlite3") | {
        ENGINES[engine]: f"redis://127.0.0.1:{redis_server.port}/{sorted(ENGINES).index(engine)}"
    }
    servers = []
    for name in (f"daphne-{engine}-a", f"daphne-{engine}-b"):
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


async def test_a_burst_to_a_group_on_another_process_loses_nothing_through_the_redis_engine(
    two_processes: tuple[Server, Server],
) -> None:
    process_a, process_b = two_processes
    if "channel-layer" in process_a.name:
        pytest.skip("channels-redis drops what exceeds a channel's capacity (100): the reason for the engine")
    members, burst = 20, 500
    async with AsyncExitStack() as stack:
        readers = [
            await stack.enter_async_context(connected(process_b.url(), user_id=1 + n % 10))
            for n in range(members)
        ]
        for reader in readers:
            await request(reader, "join", {"group": "burst"})
        sender = await stack.enter_async_context(connected(process_a.url(), user_id=1))
        [confirmation] = await request(sender, "say", {"recipient": "group", "to": "burst", "times": burst})
        received = [[await receive(reader) for _ in range(burst)] for reader in readers]

    assert confirmation["payload"] == {"said": burst}
    for frames in received:
        assert [frame["payload"]["n"] for frame in frames] == list(range(burst))
        assert [frame["seq"] for frame in frames] == list(range(2, burst + 2))


async def test_a_user_s_rate_limit_is_shared_by_both_processes(two_processes: tuple[Server, Server]) -> None:
    """Through channels-redis's own Redis as much as through the engine's: nothing more to configure."""
    process_a, process_b = two_processes
    async with (
        connected(process_a.url(), user_id=7) as here,
        connected(process_b.url(), user_id=7) as there,
    ):
        # The site's `limited` action: three a minute per connection, four per user.
        first = [(await request(here, "limited"))[0] for _ in range(3)]
        second = [(await request(there, "limited"))[0] for _ in range(2)]

    assert [frame.get("event") for frame in first] == ["echoed"] * 3
    assert second[0].get("event") == "echoed"
    assert (second[1]["code"], second[1]["scope"], second[1]["limit"]) == ("rate_limited", "user", "4/60s")
