"""The one WebSocket client the integration tests use to talk to a served site.

A thin layer over websockets' asyncio client: how to connect as a test user (the sites read the user
from the ``access-token`` subprotocol), how to write an action envelope, and how to read the frames
that answer it.
"""

import base64
import json
import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import uuid4

import anyio
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Origin, Subprotocol

__all__ = [
    "ORIGIN",
    "connected",
    "envelope",
    "read_frames",
    "receive",
    "request",
    "send",
    "stalled_connection",
]

ORIGIN = "http://127.0.0.1"
"""The origin of the test pages: browsers always send one, and the sites check it."""

type Frame = dict[str, Any]


def envelope(action: str, payload: Any = None, *, req_id: str | None = None) -> Frame:
    """An action envelope with fresh ids (``req_id`` as given)."""
    return {
        "msg_id": str(uuid4()),
        "req_id": req_id or str(uuid4()),
        "action": action,
        "payload": {} if payload is None else payload,
    }


@asynccontextmanager
async def connected(
    url: str,
    *,
    user_id: int | None = 1,
    token: str | None = None,
    origin: str | None = ORIGIN,
    v1: bool = False,
    **options: Any,
) -> AsyncIterator[ClientConnection]:
    """A connection as ``user_id`` (the sites' ``user-<id>`` token), or with ``token``; ``v1``: in
    protocol v1 (``beeflow.v1`` offered first).

    ``subprotocols=`` among ``options`` offers exactly those instead (a handshake test's forged ones).
    """
    offered = token if token is not None else (None if user_id is None else f"user-{user_id}")
    version = [Subprotocol("beeflow.v1")] if v1 else []
    if offered is not None:
        options.setdefault("subprotocols", [*version, Subprotocol("access-token"), Subprotocol(offered)])
    async with connect(
        url,
        origin=None if origin is None else Origin(origin),
        open_timeout=10,
        **options,
    ) as ws:
        yield ws


async def send(ws: ClientConnection, action: str, payload: Any = None) -> str:
    """Send an action; return its ``req_id``."""
    message = envelope(action, payload)
    await ws.send(json.dumps(message))
    return str(message["req_id"])


async def receive(ws: ClientConnection) -> Frame:
    """The next frame, parsed; a test fails rather than hang when none comes within 15 s."""
    with anyio.fail_after(15):
        frame: Frame = json.loads(await ws.recv())
    return frame


async def request(ws: ClientConnection, action: str, payload: Any = None, *, count: int = 1) -> list[Frame]:
    """Send an action and return the next ``count`` frames, each of which must answer it."""
    req_id = await send(ws, action, payload)
    frames = [await receive(ws) for _ in range(count)]
    assert [frame.get("req_id") for frame in frames] == [req_id] * count, frames
    return frames


def stalled_connection(port: int, user_id: int, group: str) -> socket.socket:
    """A client that joins ``group`` and then reads nothing, down to the TCP socket.

    Client libraries keep reading into their own buffers; only a raw socket that is not read makes
    the server's writes back up, as a real stalled client does.
    """
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET /ws/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nOrigin: {ORIGIN}\r\n"
            f"Sec-WebSocket-Protocol: access-token, user-{user_id}\r\n\r\n"
        ).encode()
    )
    response = b""
    while b"\r\n\r\n" not in response:
        response += sock.recv(1)
    assert response.startswith(b"HTTP/1.1 101"), response
    payload = json.dumps(
        {"msg_id": str(uuid4()), "req_id": str(uuid4()), "action": "join", "payload": {"group": group}}
    ).encode()
    mask = os.urandom(4)
    length = (
        bytes([0x80 | len(payload)])
        if len(payload) < 126
        else bytes([0x80 | 126]) + len(payload).to_bytes(2, "big")
    )
    sock.sendall(bytes([0x81]) + length + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))
    return sock


def read_frames(sock: socket.socket, *, quiet: float = 3.0, dropped: bool = False) -> list[tuple[int, bytes]]:
    """Read ``sock`` until it closes or stays quiet for ``quiet`` s; parse what came as server frames.

    Returns (opcode, payload) for each frame, in order. Fails the test on anything that is not
    valid framing for a connection without extensions: reserved bits set, an unknown opcode, a
    masked frame, or bytes left over that make no whole frame, unless ``dropped`` says the server
    may have dropped the connection mid-frame (then the last, partial frame is left out).
    """
    sock.settimeout(quiet)
    data = bytearray()
    try:
        while chunk := sock.recv(1 << 20):
            data += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    frames, at = [], 0
    while at < len(data):
        first, second = data[at], data[at + 1]
        assert first & 0x70 == 0, f"reserved bits set in the frame at byte {at}"
        assert first & 0x0F in (0x0, 0x1, 0x2, 0x8, 0x9, 0xA), f"unknown opcode at byte {at}"
        assert second & 0x80 == 0, f"a masked frame from the server at byte {at}"
        length, at = second & 0x7F, at + 2
        if length == 126:
            length, at = int.from_bytes(data[at : at + 2], "big"), at + 2
        elif length == 127:
            length, at = int.from_bytes(data[at : at + 8], "big"), at + 8
        if dropped and at + length > len(data):
            break
        assert at + length <= len(data), f"a frame cut short at byte {at}"
        frames.append((first & 0x0F, bytes(data[at : at + length])))
        at += length
    return frames
