"""FlaskSockTransport over a real socket pair: written on the loop while the socket takes frames
whole, through the writer thread, in order, once the peer falls behind."""

import asyncio
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from simple_websocket import ConnectionClosed
from wsproto.events import TextMessage

from beeflow_websocket.flask._transport import BACKLOG_LIMIT, FlaskSockTransport

pytestmark = pytest.mark.anyio

Pair = tuple[socket.socket, socket.socket]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class LineProtocol:
    """Encodes a text frame as one line, standing in for wsproto so the peer can split frames."""

    def send(self, event: TextMessage) -> bytes:
        return event.data.encode() + b"\n"


class Connection:
    """What the transport reads from Flask-Sock's connection object: ``sock``, ``ws`` and ``connected``."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.ws = LineProtocol()
        self.connected = True

    def send(self, data: str | bytes) -> None:
        raise AssertionError("frames are written to the socket directly")

    def receive(self, timeout: float | None = None) -> str | bytes | None:
        raise AssertionError("the transport never reads")

    def close(self, reason: int | None = None, message: str | None = None) -> None:
        self.connected = False


@pytest.fixture
def pair() -> Iterator[Pair]:
    server, client = socket.socketpair()
    for end in (server, client):
        end.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        end.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    yield server, client
    server.close()
    client.close()


def read_lines(sock: socket.socket, count: int, *, start_after: float) -> list[bytes]:
    time.sleep(start_after)
    buffer = b""
    while buffer.count(b"\n") < count:
        chunk = sock.recv(65536)
        if not chunk:
            break
        buffer += chunk
    return buffer.split(b"\n")[:count]


async def test_frames_the_socket_takes_are_written_without_a_thread(pair: Pair) -> None:
    server, client = pair
    transport = FlaskSockTransport(Connection(server))

    await transport.send("hello")
    await transport.send("again")

    assert client.recv(100) == b"hello\nagain\n"
    assert not any(t.name == "beeflow-websocket-writer" for t in threading.enumerate())


async def test_a_peer_that_falls_behind_gets_every_frame_in_order_through_the_writer_thread(
    pair: Pair,
) -> None:
    server, client = pair
    transport = FlaskSockTransport(Connection(server))
    frames = [f"{n:05d}:" + "x" * 2000 for n in range(200)]
    result: list[list[bytes]] = []
    reader = threading.Thread(target=lambda: result.append(read_lines(client, len(frames), start_after=0.3)))
    reader.start()

    writers_seen = set()
    for frame in frames:
        await transport.send(frame)
        writers_seen |= {t.name for t in threading.enumerate() if t.name == "beeflow-websocket-writer"}
    reader.join(10)
    transport.shutdown()

    assert [line.decode() for line in result[0]] == frames
    assert writers_seen == {"beeflow-websocket-writer"}


async def test_send_waits_while_the_writer_threads_backlog_is_full(pair: Pair) -> None:
    server, _client = pair
    transport = FlaskSockTransport(Connection(server))
    sent = 0

    async def flood() -> None:
        nonlocal sent
        while True:
            await transport.send("y" * 8192)
            sent += 1

    task = asyncio.create_task(flood())
    await asyncio.sleep(0.3)
    stalled_at = sent
    await asyncio.sleep(0.3)
    task.cancel()
    transport.shutdown()

    assert sent == stalled_at  # nobody reads: send waits instead of queueing without end
    assert sent < 4 * BACKLOG_LIMIT + 16


async def test_a_peer_that_has_gone_makes_send_fail(pair: Pair) -> None:
    server, client = pair
    transport = FlaskSockTransport(Connection(server))
    client.close()

    async def keep_sending() -> None:
        for _ in range(100):
            await transport.send("z" * 8192)
            await asyncio.sleep(0.01)

    with pytest.raises((ConnectionClosed, OSError)):
        await keep_sending()
