from datetime import UTC, datetime
from enum import Enum
from uuid import UUID

import pytest
from pydantic import BaseModel

from beeflow_websocket.core.event_registry import Event, EventPluginProtocol, EventRegistryMeta
from beeflow_websocket.core.events.health import HealthEvent, HealthPayload


def test_health_event_defaults_to_status_ok() -> None:
    event = HealthEvent(recipient="websocket", recipient_id="conn-1")

    assert event.payload == HealthPayload(status="ok")
    assert event.req_id is None
    assert HealthEvent.event_name == "health"
    assert EventRegistryMeta.registry["health"] is HealthEvent
    assert isinstance(event, EventPluginProtocol)


def test_an_application_event_with_a_typed_payload() -> None:
    class Colour(Enum):
        RED = "red"

    class Painted(BaseModel):
        colour: Colour
        at: datetime

    class PaintedEvent(Event[Painted], name="painted"):
        pass

    payload = Painted(colour=Colour.RED, at=datetime(2026, 1, 1, tzinfo=UTC))
    event = PaintedEvent(recipient="websocket", recipient_id=7, payload=payload, req_id=UUID(int=1))

    assert EventRegistryMeta.registry["painted"] is PaintedEvent
    assert (event.recipient_id, event.payload, event.req_id) == ("7", payload, UUID(int=1))
    assert "PaintedEvent(recipient='websocket', recipient_id='7'" in repr(event)


def test_an_event_with_a_mapping_payload() -> None:
    class Memo(Event, name="memo"):
        pass

    assert Memo(recipient="websocket", recipient_id="c", payload={"text": "hi"}).payload == {"text": "hi"}


@pytest.mark.parametrize(
    ("recipient", "recipient_id"), [("", "c"), ("  ", "c"), ("websocket", ""), ("websocket", " ")]
)
def test_events_need_a_recipient(recipient: str, recipient_id: str) -> None:
    with pytest.raises(ValueError, match="recipient"):
        HealthEvent(recipient=recipient, recipient_id=recipient_id)
