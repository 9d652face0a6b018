"""FlaskSockTransport: frames encoded with the connection's wsproto state, written whole."""

import asyncio
import socket
import threading
from collections.abc import Iterator

import pytest
from simple_websocket import ConnectionClosed
from wsproto.events import CloseConnection, TextMessage

from beeflow_websocket.flask._transport import FlaskSockTransport

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class LineProtocol:
    """Encodes a frame as one line, standing in for wsproto so the peer can split frames."""

    def send(self, event: TextMessage | CloseConnection) -> bytes:
        if isinstance(event, CloseConnection):
            return f"CLOSE {event.code} {event.reason}\n".encode()
        return event.data.encode() + b"\n"


class Connection:
    """What the transport reads from simple-websocket's connection: ``sock``, ``ws``, ``connected``."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock: object = sock
        self.ws = LineProtocol()
        self.connected = True

    def send(self, data: str | bytes) -> None:
        raise AssertionError("frames are written to the socket directly")

    def receive(self, timeout: float | None = None) -> str | bytes | None:
        raise AssertionError("the transport never reads")

    def close(self, reason: int | None = None, message: str | None = None) -> None:
        raise AssertionError("the close frame is written to the socket directly")


class PlainConnection:
    """A connection object with only the public methods."""

    def __init__(self) -> None:
        self.sent: list[str | bytes] = []
        self.closed_with: tuple[int | None, str | None] | None = None

    def send(self, data: str | bytes) -> None:
        self.sent.append(data)

    def receive(self, timeout: float | None = None) -> str | bytes | None:
        return None

    def close(self, reason: int | None = None, message: str | None = None) -> None:
        self.closed_with = (reason, message)


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    server, client = socket.socketpair()
    yield server, client
    server.close()
    client.close()


async def test_frames_are_encoded_by_the_connection_and_its_socket_is_shared_under_one_lock(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    server, client = pair
    connection = Connection(server)
    transport = FlaskSockTransport(connection)

    await transport.send("hello")
    connection.sock.send(b"PONG\n")  # type: ignore[attr-defined]  # what simple-websocket's thread does

    assert connection.sock is not server
    assert client.recv(100) == b"hello\nPONG\n"


async def test_close_writes_the_close_frame_and_marks_the_connection_closed(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    server, client = pair
    connection = Connection(server)
    transport = FlaskSockTransport(connection)

    await transport.close(1013, "not reading")
    client.settimeout(5)

    assert client.recv(100) == b"CLOSE 1013 not reading\n"
    assert not connection.connected
    with pytest.raises(ConnectionClosed):
        await transport.send("late")


async def test_a_connection_without_a_socket_is_written_through_its_public_methods() -> None:
    connection = PlainConnection()
    transport = FlaskSockTransport(connection)

    await transport.send("hello")
    await transport.close(1000, "bye")
    for _ in range(100):
        if connection.closed_with is not None:
            break
        await asyncio.sleep(0.01)
    transport.shutdown()

    assert connection.sent == ["hello"]
    assert connection.closed_with == (1000, "bye")
    assert not any(t.name == "beeflow-websocket-writer" for t in threading.enumerate())
