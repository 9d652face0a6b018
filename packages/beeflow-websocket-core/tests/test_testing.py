from uuid import UUID

import pytest

from beeflow_websocket.core.testing import ActionTestClient

pytestmark = pytest.mark.anyio


async def test_request_returns_only_the_frames_of_that_request() -> None:
    client = ActionTestClient(user_id=7, websocket_id="conn-7")

    first = await client.request("health")
    second = await client.request("health")

    assert [f["seq"] for f in first] == [1]
    assert [f["seq"] for f in second] == [2]
    assert [f["seq"] for f in client.frames] == [1, 2]
    assert client.websocket_id == "conn-7"


async def test_send_uses_the_given_req_id() -> None:
    client = ActionTestClient()
    req_id = UUID("5d1b7d2c-7a0e-4f65-8b1c-2f3e4d5c6b7a")

    assert await client.send("health", req_id=req_id) == req_id
    assert client.frames[0]["req_id"] == str(req_id)


async def test_a_closed_client_is_no_longer_reachable() -> None:
    client = ActionTestClient(websocket_id="gone")
    other = ActionTestClient(connections=client.connections)

    await client.close()

    assert "gone" not in other.connections
    assert client.websocket_id != other.websocket_id
