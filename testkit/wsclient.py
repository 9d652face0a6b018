"""The one WebSocket client the integration tests use to talk to a served site.

A thin layer over websockets' asyncio client: how to connect as a test user (the sites read the user
from the ``access-token`` subprotocol), how to write an action envelope, and how to read the frames
that answer it.
"""

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import uuid4

import anyio
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Origin, Subprotocol

__all__ = ["ORIGIN", "connected", "envelope", "receive", "request", "send"]

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
    **options: Any,
) -> AsyncIterator[ClientConnection]:
    """A connection as ``user_id`` (the sites' ``user-<id>`` token), or with ``token``.

    ``subprotocols=`` among ``options`` offers exactly those instead (a handshake test's forged ones).
    """
    offered = token if token is not None else (None if user_id is None else f"user-{user_id}")
    if offered is not None:
        options.setdefault("subprotocols", [Subprotocol("access-token"), Subprotocol(offered)])
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
