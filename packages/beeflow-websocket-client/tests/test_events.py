from typing import Any

import pytest
from pydantic import BaseModel

from beeflow_websocket.client.events import EventTypes


class Seat(BaseModel):
    seat: str
    passengers: int


class Event[T]:
    """Stands for the server's generic Event base, which the client never imports."""


class Reserved(Event[Seat]):
    event_name = "reserved"


class Untyped:
    event_name = "untyped"


def frame(event: str, payload: dict[str, Any], **members: Any) -> dict[str, Any]:
    return {"msg_id": "m", "req_id": "r", "seq": 3, "event": event, "recipient": "websocket",
            "recipient_id": "c", "payload": payload, **members}  # fmt: skip


def test_a_known_event_arrives_as_its_model_and_others_as_json() -> None:
    types = EventTypes([Reserved, Untyped])

    reserved = types.read(frame("reserved", {"seat": "1A", "passengers": 2}))
    untyped = types.read(frame("untyped", {"any": "thing"}))
    other = types.read(frame("other", {"x": 1}, req_id=None))

    assert reserved.payload == Seat(seat="1A", passengers=2)
    assert (reserved.event, reserved.seq, reserved.req_id, reserved.recipient_id) == ("reserved", 3, "r", "c")
    assert untyped.payload == {"any": "thing"}
    assert other.payload == {"x": 1}
    assert other.req_id is None


def test_payload_as_reads_any_payload_as_a_model() -> None:
    event = EventTypes().read(frame("reserved", {"seat": "2B", "passengers": "3"}))

    seat = event.payload_as(Seat)

    assert seat == Seat(seat="2B", passengers=3)
    assert EventTypes([Reserved]).read(event.frame).payload_as(Seat) == seat
    with pytest.raises(TypeError, match="model_validate"):
        event.payload_as(int)


def test_a_class_without_an_event_name_is_refused() -> None:
    with pytest.raises(TypeError, match="not an event class"):
        EventTypes([Seat])
