from typing import Any

import pytest
from channels.layers import InMemoryChannelLayer

from beeflow_websocket.core.problems import DeliveryUnavailable
from beeflow_websocket.core.transport import OutboundEvent
from beeflow_websocket.django.delivery import ChannelLayerDelivery, channel_layer_group

pytestmark = pytest.mark.anyio

EVENT = OutboundEvent(
    req_id=None, body='{"event":"e","recipient":"group","recipient_id":"room:1","payload":{}}'
)


@pytest.mark.parametrize(
    ("group", "mapped"),
    [("team.red", "beeflow.g.team.red"), ("room-1_a", "beeflow.g.room-1_a")],
)
def test_plain_group_names_stay_readable(group: str, mapped: str) -> None:
    assert channel_layer_group(group) == mapped


@pytest.mark.parametrize("group", ["room:42", "~user:7", "~user:auth0|x", "x" * 100])
def test_other_group_names_are_hashed_into_what_channels_accepts(group: str) -> None:
    mapped = channel_layer_group(group)

    assert mapped.startswith("beeflow.h.")
    assert len(mapped) < 100
    assert mapped == channel_layer_group(group)
    assert mapped != channel_layer_group(group + "x")


async def test_groups_go_through_the_channel_layer() -> None:
    layer = InMemoryChannelLayer()
    delivery = ChannelLayerDelivery(layer)
    inbox = await layer.new_channel()
    await delivery.add_to_group("room:1", inbox)

    await delivery.send_to_group("room:1", EVENT)
    message = await layer.receive(inbox)
    await delivery.remove_from_group("room:1", inbox)
    await delivery.send_to_group("room:1", EVENT)

    assert message == {"type": "beeflow.event", "req_id": None, "body": EVENT.body}
    assert layer.channels.get(inbox) is None or layer.channels[inbox][1].empty()


async def test_a_failing_layer_is_delivery_unavailable(caplog: pytest.LogCaptureFixture) -> None:
    class Broken:
        async def group_send(self, group: str, message: Any) -> None:
            raise ConnectionRefusedError("redis is down")

    with pytest.raises(DeliveryUnavailable):
        await ChannelLayerDelivery(Broken()).send_to_group("room:1", EVENT)

    assert "the channel layer failed (group_send for group room:1): redis is down" in caplog.text
