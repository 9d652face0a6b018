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
    reachable_before = "gone" in other.connections

    await client.close()

    assert reachable_before
    assert "gone" not in other.connections


def test_isolated_registries_forgets_the_classes_defined_inside_and_keeps_the_built_ins() -> None:
    from beeflow_websocket.core.action_registry import ActionRegistryMeta
    from beeflow_websocket.core.recipient_registry import RecipientRegistryMeta
    from beeflow_websocket.core.testing import isolated_registries

    with isolated_registries():

        class Inside(metaclass=ActionRegistryMeta, name="inside"):
            pass

        class Team(metaclass=RecipientRegistryMeta, name="inside-team"):
            pass

        assert "inside" in ActionRegistryMeta.registry

    assert "inside" not in ActionRegistryMeta.registry
    assert "inside-team" not in RecipientRegistryMeta.registry
    assert "health" in ActionRegistryMeta.registry
