"""Readers that fall behind, on every adapter's real server: a slow reader is never closed, a stalled
one is closed with a well-formed 1013, and every byte either receives parses, in ``seq`` order."""

import json
import sys
from typing import Any

import anyio
import pytest
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from serving import Server, free_port, prepare_django_site, start_server
from wsclient import connected, read_frames, request, stalled_connection

pytestmark = [pytest.mark.anyio, pytest.mark.integration]

EVENTS = 300
PAD = 16_000  # 300 frames of 16 KB: more than the socket buffers and the outbound queue hold together
STALLED_EVENTS = 1_000  # 16 MB: more than they hold however the kernel sizes its buffers


async def join(ws: ClientConnection, group: str) -> None:
    [membership] = await request(ws, "join", {"group": group})
    assert membership["payload"] == {"groups": [group]}


async def say_to(ws: ClientConnection, group: str, times: int = EVENTS) -> None:
    payload = {"recipient": "group", "to": group, "times": times, "pad": PAD}
    [confirmation] = await request(ws, "say", payload)
    assert confirmation["payload"] == {"said": times}


async def read_until_closed(ws: ClientConnection, *, pause: float = 0.0) -> tuple[list[dict[str, Any]], Any]:
    """Every frame until the connection closes or goes quiet; and how it closed (``None``: it did not)."""
    frames = []
    try:
        while True:
            with anyio.fail_after(5):
                frames.append(json.loads(await ws.recv()))
            if pause:
                await anyio.sleep(pause)
    except ConnectionClosed as closed:
        return frames, closed
    except TimeoutError:
        return frames, None


async def test_a_slow_reader_that_keeps_reading_gets_everything_and_stays_open(served: Server) -> None:
    async with connected(served.url(), user_id=1) as reader, connected(served.url(), user_id=2) as sender:
        await join(reader, "slow-readers")
        async with anyio.create_task_group() as group:
            group.start_soon(say_to, sender, "slow-readers")
            # About 1.6 MB/s: the whole burst takes longer than the slow-consumer timeout (2 s).
            frames, closed = await read_until_closed(reader, pause=0.01)

    assert closed is None
    assert [frame["payload"]["n"] for frame in frames] == list(range(EVENTS))
    assert [frame["seq"] for frame in frames] == list(range(2, EVENTS + 2))


async def stalled_reader(server: Server) -> tuple[list[dict[str, Any]], list[bytes], dict[str, Any]]:
    """A raw client joins a group and reads nothing while 16 MB are said to it; then it reads.

    Returns the text frames it got, the payloads of the close frames, and the sender's next answer.
    """
    stalled = stalled_connection(server.port, 1, "stalled-readers")
    try:
        async with connected(server.url(), user_id=2) as sender:
            await anyio.sleep(0.2)  # the stalled client's join is handled
            await say_to(sender, "stalled-readers", STALLED_EVENTS)  # returns once it is given up on
            [health] = await request(sender, "health")
        frames = await anyio.to_thread.run_sync(read_frames, stalled)
    finally:
        stalled.close()
    texts = [json.loads(payload) for opcode, payload in frames if opcode == 0x1]
    return texts, [payload for opcode, payload in frames if opcode == 0x8], health


def assert_in_order(texts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    said = [frame for frame in texts if frame.get("event") == "said"]
    assert [frame["payload"]["n"] for frame in said] == list(range(len(said)))
    assert [frame["seq"] for frame in texts] == list(range(1, len(texts) + 1))
    return said


CLOSED_STALLED = (1013).to_bytes(2, "big") + b"outbound queue full: the client is not reading"


async def test_a_stalled_reader_is_closed_with_1013_and_what_it_got_parses_in_order(served: Server) -> None:
    texts, closes, health = await stalled_reader(served)

    said = assert_in_order(texts)
    assert health["payload"] == {"status": "ok"}
    if served.name == "django":
        # Daphne buffers every write without limit, so no write ever waits: nothing is stalled.
        assert (len(said), closes) == (STALLED_EVENTS, [])
    else:
        assert len(said) < STALLED_EVENTS
        assert closes == [CLOSED_STALLED]


async def test_on_django_served_by_uvicorn_a_stalled_reader_is_closed_with_1013(
    tmp_path_factory: pytest.TempPathFactory, redis_server: Server
) -> None:
    """With the Redis engine, as django.md advises: uvicorn, unlike daphne, makes a write wait."""
    workdir = tmp_path_factory.mktemp("django-uvicorn")
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "djangosite.asgi:application", "--port", str(port)]
    redis_url = f"redis://127.0.0.1:{redis_server.port}/5"
    env = prepare_django_site(workdir / "db.sqlite3") | {"DJANGOSITE_BEEFLOW_REDIS_URL": redis_url}
    server = start_server("django-uvicorn", command, workdir / "server.log", port, env)
    try:
        texts, closes, health = await stalled_reader(server)
    finally:
        server.stop()

    said = assert_in_order(texts)
    assert len(said) < STALLED_EVENTS
    assert closes == [CLOSED_STALLED]
    assert health["payload"] == {"status": "ok"}
    assert "its client is not reading" in server.output()
