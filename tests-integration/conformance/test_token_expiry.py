"""Expiring credentials on every adapter's real server: the notice, the refresh, the close with 4440.

The test sites read ``user-<id>~<seconds>`` as a token that expires that many seconds after it is
read, tell a v1 client half a second before, and close it half a second after.
"""

import json
import time
from typing import Any
from uuid import uuid4

import anyio
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from serving import Server

pytestmark = [pytest.mark.anyio, pytest.mark.integration]


async def open_v1(server: Server, token: str) -> ClientConnection:
    return await connect(
        server.url(),
        origin="http://127.0.0.1",
        subprotocols=["beeflow.v1", "access-token", token],
        open_timeout=10,
    )  # type: ignore[list-item]


async def next_frame(ws: ClientConnection) -> dict[str, Any]:
    with anyio.fail_after(10):
        frame: dict[str, Any] = json.loads(await ws.recv())
    return frame


async def refresh(ws: ClientConnection, token: str) -> dict[str, Any]:
    req_id = str(uuid4())
    await ws.send(
        json.dumps(
            {
                "msg_id": str(uuid4()),
                "req_id": req_id,
                "action": "beeflow.refresh",
                "payload": {"token": token},
            }
        )
    )
    frame = await next_frame(ws)
    assert (frame["req_id"], frame["final"]) == (req_id, True)
    return frame


async def test_a_refreshed_connection_outlives_its_first_token(served: Server) -> None:
    ws = await open_v1(served, "user-3~1")
    try:
        notice = await next_frame(ws)
        answer = await refresh(ws, "user-3~60")
        await anyio.sleep(1.5)  # past the first token's expiry and grace
        await ws.send(
            json.dumps({"msg_id": str(uuid4()), "req_id": str(uuid4()), "action": "health", "payload": {}})
        )
        health = await next_frame(ws)
    finally:
        await ws.close()

    assert notice["event"] == "beeflow.token_expiring"
    assert 0 < notice["payload"]["expires_in"] <= 0.5
    assert answer["event"] == "beeflow.complete"
    assert health["event"] == "health"


async def test_an_unrefreshed_connection_is_closed_with_4440_after_the_grace(served: Server) -> None:
    started = time.monotonic()
    ws = await open_v1(served, "user-3~0.5")
    notice = await next_frame(ws)
    with anyio.fail_after(10), pytest.raises(ConnectionClosed):
        await ws.recv()

    assert notice["event"] == "beeflow.token_expiring"
    assert ws.close_code == 4440
    assert time.monotonic() - started >= 1.0 - 0.05  # the expiry, then the grace


async def test_a_refresh_with_another_user_s_token_is_refused(served: Server) -> None:
    ws = await open_v1(served, "user-3~60")
    try:
        refused = await refresh(ws, "user-4~60")
        nobody = await refresh(ws, "nobody")
    finally:
        await ws.close()

    assert (refused["status"], refused["code"], refused["detail"]) == (
        401,
        "token_refused",
        "The token belongs to another user.",
    )
    assert (nobody["code"], nobody["detail"]) == ("token_refused", "The token was not accepted.")
