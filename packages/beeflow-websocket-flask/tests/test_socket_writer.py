"""SocketWriter over a real socket pair: written on the loop while the socket takes frames whole,
through the writer thread, in order, once the peer falls behind; never interleaved with the socket's
other writer."""

import asyncio
import random
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from beeflow_websocket.flask._socket_writer import SocketWriter

pytestmark = pytest.mark.anyio

Pair = tuple[socket.socket, socket.socket]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def pair() -> Iterator[Pair]:
    server, client = socket.socketpair()
    for end in (server, client):
        end.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        end.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    yield server, client
    server.close()
    client.close()


def line(text: str) -> bytes:
    """A frame the peer can split off: one line."""
    return text.encode() + b"\n"


def read_lines(
    sock: socket.socket, count: int, *, start_after: float = 0.0, pace: float = 0.0
) -> list[bytes]:
    time.sleep(start_after)
    buffer = b""
    while buffer.count(b"\n") < count:
        chunk = sock.recv(random.choice((1, 7, 512, 65536)) if pace else 65536)
        if not chunk:
            break
        buffer += chunk
        if pace:
            time.sleep(random.random() * pace)
    return buffer.split(b"\n")[:count]


def writer_threads() -> set[str]:
    return {t.name for t in threading.enumerate() if t.name == "beeflow-websocket-writer"}


async def test_frames_the_socket_takes_are_written_without_a_thread(pair: Pair) -> None:
    server, client = pair
    writer = SocketWriter(server)

    await writer.write(line("hello"))
    await writer.write(line("again"))

    assert client.recv(100) == b"hello\nagain\n"
    assert writer_threads() == set()


async def test_a_peer_that_falls_behind_gets_every_frame_in_order_through_the_writer_thread(
    pair: Pair,
) -> None:
    server, client = pair
    writer = SocketWriter(server)
    frames = [f"{n:05d}:" + "x" * 2000 for n in range(200)]
    result: list[list[bytes]] = []
    reader = threading.Thread(target=lambda: result.append(read_lines(client, len(frames), start_after=0.3)))
    reader.start()

    seen = set()
    for frame in frames:
        await writer.write(line(frame))
        seen |= writer_threads()
    reader.join(10)
    writer.stop()

    assert [item.decode() for item in result[0]] == frames
    assert seen == {"beeflow-websocket-writer"}


async def test_write_returns_only_once_its_frame_is_written(pair: Pair) -> None:
    server, _client = pair
    writer = SocketWriter(server)
    written = 0

    async def flood() -> None:
        nonlocal written
        while True:
            await writer.write(line("y" * 8192))
            written += 1

    task = asyncio.create_task(flood())
    await asyncio.sleep(0.3)
    stalled_at = written
    await asyncio.sleep(0.3)
    task.cancel()
    server.shutdown(socket.SHUT_RDWR)  # lets the writer thread out of its blocked write
    writer.stop()

    # Nobody reads: the writer holds the sender at the first frame the socket cannot take, so frames
    # wait in the dispatcher's queue (where the slow-consumer policy sees them), not in here.
    assert written == stalled_at
    assert written <= 4


async def test_a_peer_that_has_gone_makes_write_fail(pair: Pair) -> None:
    server, client = pair
    writer = SocketWriter(server)
    client.close()

    async def keep_writing() -> None:
        for _ in range(100):
            await writer.write(line("z" * 8192))
            await asyncio.sleep(0.01)

    with pytest.raises((BrokenPipeError, ConnectionResetError)):
        await keep_writing()
    writer.stop()


@pytest.mark.parametrize("seed", range(5))
async def test_frames_and_the_other_writers_frames_never_interleave(pair: Pair, seed: int) -> None:
    """The other writer (simple-websocket's thread, answering pings) writes while large frames stream
    to a reader that reads in odd sizes at an odd pace: every line the reader gets is whole."""
    rng = random.Random(seed)
    server, client = pair
    writer = SocketWriter(server)
    other = writer.shared()
    frames = [f"{n:04d}:" + "f" * rng.choice((10, 3000, 20000)) for n in range(60)]
    pongs = 0
    done = threading.Event()

    def answer_pings() -> None:
        nonlocal pongs
        while not done.is_set():
            other.send(b"PONG\n")
            pongs += 1
            time.sleep(rng.random() / 1000)

    result: list[list[bytes]] = []
    reader = threading.Thread(target=lambda: result.append(read_lines(client, 10**6, pace=0.002)))
    reader.start()
    ponger = threading.Thread(target=answer_pings)
    ponger.start()
    for frame in frames:
        await writer.write(line(frame))
    done.set()
    ponger.join(10)
    other.send(b"END\n")
    server.shutdown(socket.SHUT_WR)
    reader.join(30)
    writer.stop()

    lines = [item.decode() for item in result[0] if item]
    assert lines[-1] == "END"
    assert [text for text in lines if text not in ("PONG", "END")] == frames
    assert lines.count("PONG") == pongs > 0


async def test_a_close_frame_the_socket_takes_is_written(pair: Pair) -> None:
    server, client = pair
    writer = SocketWriter(server)

    writer.close(lambda: b"CLOSE\n")

    assert client.recv(100) == b"CLOSE\n"


async def test_a_client_that_reads_nothing_loses_its_tcp_connection_on_close(pair: Pair) -> None:
    server, client = pair
    writer = SocketWriter(server, close_grace=0.5)
    task = asyncio.create_task(writer.write(line("w" * 100_000)))  # stuck: nobody reads
    await asyncio.sleep(0.1)
    started = time.monotonic()

    await asyncio.to_thread(writer.close, lambda: b"CLOSE\n")

    assert time.monotonic() - started < 0.5 + 1
    with pytest.raises((BrokenPipeError, ConnectionResetError)):
        await asyncio.wait_for(task, 5)
    client.settimeout(5)
    received = b""
    while chunk := client.recv(65536):
        received += chunk
    assert b"CLOSE" not in received  # dropped, not half-closed with a frame cut short
    writer.stop()


async def test_a_stalled_client_that_reads_again_in_time_gets_its_frame_and_a_close_frame(pair: Pair) -> None:
    server, client = pair
    writer = SocketWriter(server, close_grace=5)
    frame = line("w" * 100_000)
    task = asyncio.create_task(writer.write(frame))  # stuck mid-frame: nobody reads
    await asyncio.sleep(0.1)
    closing = asyncio.create_task(asyncio.to_thread(writer.close, lambda: b"CLOSE\n"))
    await asyncio.sleep(0.3)

    received = await asyncio.to_thread(read_lines, client, 2)
    await closing
    await task
    writer.stop()

    assert received == [frame[:-1], b"CLOSE"]
