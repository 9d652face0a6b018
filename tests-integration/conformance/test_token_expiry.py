"""Expiring credentials on every adapter's real server: the notice, the refresh, the close with 4440.

The test sites read ``user-<id>~<seconds>`` as a token that expires that many seconds after it is
read, tell a v1 client half a second before, and close it half a second after.
"""

import time
from typing import Any

import anyio
import pytest
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from serving import Server
from wsclient import connected, receive, request

pytestmark = [pytest.mark.anyio, pytest.mark.integration]


async def refresh(ws: ClientConnection, token: str) -> dict[str, Any]:
    [frame] = await request(ws, "beeflow.refresh", {"token": token})
    assert frame["final"] is True
    return frame


async def test_a_refreshed_connection_outlives_its_first_token(served: Server) -> None:
    async with connected(served.url(), token="user-3~1", v1=True) as ws:
        notice = await receive(ws)
        answer = await refresh(ws, "user-3~60")
        await anyio.sleep(1.5)  # past the first token's expiry and grace
        [health] = await request(ws, "health")

    assert notice["event"] == "beeflow.token_expiring"
    assert 0 < notice["payload"]["expires_in"] <= 0.5
    assert answer["event"] == "beeflow.complete"
    assert health["event"] == "health"


async def test_an_unrefreshed_connection_is_closed_with_4440_after_the_grace(served: Server) -> None:
    started = time.monotonic()
    async with connected(served.url(), token="user-3~0.5", v1=True) as ws:
        notice = await receive(ws)
        with anyio.fail_after(10), pytest.raises(ConnectionClosed):
            await ws.recv()

    assert notice["event"] == "beeflow.token_expiring"
    assert ws.close_code == 4440
    assert time.monotonic() - started >= 1.0 - 0.05  # the expiry, then the grace


async def test_a_refresh_with_another_user_s_token_is_refused(served: Server) -> None:
    async with connected(served.url(), token="user-3~60", v1=True) as ws:
        refused = await refresh(ws, "user-4~60")
        nobody = await refresh(ws, "nobody")

    assert (refused["status"], refused["code"], refused["detail"]) == (
        401,
        "token_refused",
        "The token belongs to another user.",
    )
    assert (nobody["code"], nobody["detail"]) == ("token_refused", "The token was not accepted.")
