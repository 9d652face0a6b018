"""The frame codec (beeflow_websocket.core._wire)."""

import math
from uuid import UUID

import pytest
from pydantic import BaseModel, Field
from pydantic_core import PydanticSerializationError, from_json

from beeflow_websocket.core._wire import (
    decode_object,
    encode_event,
    encode_problem,
    new_msg_id,
    quoted,
    read_req_id,
    stamp,
    validate_envelope,
)
from beeflow_websocket.core.event_registry import Event
from beeflow_websocket.core.events.health import HealthEvent
from beeflow_websocket.core.problems import InvalidMessage, WebSocketProblem
from beeflow_websocket.core.transport import OutboundEvent

REQ_ID = UUID("5d1b7d2c-7a0e-4f65-8b1c-2f3e4d5c6b7a")


def test_msg_ids_are_distinct_version_4_uuids() -> None:
    ids = {new_msg_id() for _ in range(1000)}

    assert len(ids) == 1000
    for msg_id in ids:
        parsed = UUID(msg_id)
        assert (parsed.version, parsed.variant, str(parsed)) == (4, "specified in RFC 4122", msg_id)


@pytest.mark.parametrize(
    ("frame", "detail"),
    [
        ("nope", "The message is not valid JSON (line 1, column 2)."),
        ('{"a": NaN}', "The message is not valid JSON (line 1, column 7)."),
        ('{"a": -Infinity}', "The message is not valid JSON (line 1, column 8)."),
        ('{"a": 1} trailing', "The message is not valid JSON (line 1, column 10)."),
        ("", "The message is not valid JSON (line 1, column 0)."),
        (b"\xff\xfe", "The binary message is not UTF-8 text."),
        (b"\x00\x01", "The message is not valid JSON (line 1, column 1)."),
        ('{"a": "\ud800"}', "The message is not valid Unicode text."),
        ("[1, 2]", "The message must be a JSON object, got an array."),
        ('"text"', "The message must be a JSON object, got a string."),
        ("12", "The message must be a JSON object, got a number."),
        ("1.5", "The message must be a JSON object, got a number."),
        ("true", "The message must be a JSON object, got a boolean."),
        ("null", "The message must be a JSON object, got null."),
    ],
)
def test_decode_object_refuses_anything_but_one_json_object(frame: str | bytes, detail: str) -> None:
    with pytest.raises(InvalidMessage) as raised:
        decode_object(frame)

    assert raised.value.detail == detail


def test_decode_object_refuses_nesting_deeper_than_the_decoder_allows() -> None:
    with pytest.raises(InvalidMessage, match="not valid JSON"):
        decode_object('{"a":' + "[" * 5000 + "]" * 5000 + "}")


def test_decode_object_reads_text_and_binary_frames() -> None:
    assert decode_object('{"a": [1]}') == {"a": [1]}
    assert decode_object('{"a": "zażółć"}'.encode()) == {"a": "zażółć"}


@pytest.mark.parametrize(
    ("data", "req_id"),
    [
        ({"req_id": str(REQ_ID)}, REQ_ID),
        ({"req_id": "not-a-uuid"}, None),
        ({"req_id": 5}, None),
        ({}, None),
    ],
)
def test_read_req_id_recovers_only_a_valid_uuid(data: dict[str, object], req_id: UUID | None) -> None:
    assert read_req_id(data) == req_id


def test_validate_envelope_lists_every_field_error() -> None:
    with pytest.raises(InvalidMessage) as raised:
        validate_envelope({"req_id": str(REQ_ID), "action": " ", "payload": [], "msg_id": "x"})

    problem = raised.value
    assert problem.detail == (
        "Invalid action envelope: msg_id must be a UUID; action must not be blank; "
        "payload must be a JSON object."
    )
    assert problem.extensions["errors"] == [
        {"loc": ["msg_id"], "msg": "must be a UUID", "type": "uuid_parsing"},
        {"loc": ["action"], "msg": "must not be blank", "type": "string_pattern_mismatch"},
        {"loc": ["payload"], "msg": "must be a JSON object", "type": "value_error"},
    ]


def test_validate_envelope_falls_back_to_pydantic_messages() -> None:
    with pytest.raises(InvalidMessage) as raised:
        validate_envelope({"req_id": 7, "msg_id": str(REQ_ID), "action": ["x"], "payload": {}})

    assert raised.value.extensions["errors"] == [
        {"loc": ["req_id"], "msg": "must be a UUID string", "type": "uuid_type"},
        {"loc": ["action"], "msg": "must be a string", "type": "string_type"},
    ]


def test_encode_event_serialises_once_without_msg_id_and_seq() -> None:
    outbound = encode_event(HealthEvent(recipient="websocket", recipient_id="c-1", req_id=REQ_ID))

    assert outbound == OutboundEvent(
        req_id=str(REQ_ID),
        body='{"event":"health","recipient":"websocket","recipient_id":"c-1","payload":{"status":"ok"}}',
    )


@pytest.mark.parametrize(
    "recipient_id", ['say "hi"', "back\\slash", "line\nbreak", "tab\tand\x01control", "zażółć 🐝", "a\u2028b"]
)
def test_encode_event_escapes_names_and_ids_that_need_it(recipient_id: str) -> None:
    class Quoted(Event, name='quo"ted\\event'):
        pass

    body = encode_event(Quoted(recipient="user", recipient_id=recipient_id, payload={})).body

    assert from_json(body) == {
        "event": 'quo"ted\\event',
        "recipient": "user",
        "recipient_id": recipient_id,
        "payload": {},
    }


def test_encode_event_writes_overflowing_floats_as_null() -> None:
    class Reading(Event, name="reading"):
        pass

    outbound = encode_event(
        Reading(recipient="websocket", recipient_id="c", payload={"v": math.inf, "w": math.nan})
    )

    assert from_json(outbound.body)["payload"] == {"v": None, "w": None}
    assert outbound.req_id is None


def test_encode_event_refuses_a_payload_that_is_not_an_object() -> None:
    class Listing(Event, name="listing"):
        pass

    with pytest.raises(TypeError, match=r"Listing\.payload must be a pydantic model or a mapping, got list"):
        encode_event(Listing(recipient="websocket", recipient_id="c", payload=[1, 2]))  # type: ignore[arg-type]


def test_encode_event_refuses_values_json_cannot_carry() -> None:
    class Odd(Event, name="odd"):
        pass

    with pytest.raises(PydanticSerializationError):
        encode_event(Odd(recipient="websocket", recipient_id="c", payload={"v": object()}))  # type: ignore[dict-item]


def test_encode_event_uses_serialisation_aliases_of_payload_models() -> None:
    class Moved(BaseModel):
        new_place: str = Field(alias="new-place")

    class MovedEvent(Event[Moved], name="moved"):
        pass

    body = encode_event(
        MovedEvent(recipient="websocket", recipient_id="c", payload=Moved.model_validate({"new-place": "x"}))
    ).body

    assert from_json(body)["payload"] == {"new-place": "x"}


def test_stamp_puts_msg_id_req_id_and_seq_first() -> None:
    body = '{"event":"e","recipient":"websocket","recipient_id":"c","payload":{}}'

    with_req = from_json(stamp(OutboundEvent(req_id=str(REQ_ID), body=body), 3))
    without_req = from_json(stamp(OutboundEvent(req_id=None, body=body), 4))

    assert list(with_req) == ["msg_id", "req_id", "seq", "event", "recipient", "recipient_id", "payload"]
    assert (with_req["req_id"], with_req["seq"]) == (str(REQ_ID), 3)
    assert list(without_req) == ["msg_id", "seq", "event", "recipient", "recipient_id", "payload"]
    assert without_req["seq"] == 4


def test_encode_problem_renders_problem_details_with_extensions() -> None:
    problem = WebSocketProblem(
        "Seat 12A is gone.", status=409, code="seat_taken", title="Seat taken", extensions={"seat": "12A"}
    )

    frame = from_json(
        encode_problem(
            problem, req_id=REQ_ID, instance="/ws/", problem_type_base_url="https://x.test/problems"
        )
    )

    assert frame.pop("msg_id")
    assert frame == {
        "req_id": str(REQ_ID),
        "type": "https://x.test/problems/seat-taken",
        "title": "Seat taken",
        "status": 409,
        "detail": "Seat 12A is gone.",
        "code": "seat_taken",
        "instance": "/ws/",
        "seat": "12A",
    }


def test_encode_problem_omits_an_unknown_req_id() -> None:
    frame = from_json(
        encode_problem(InvalidMessage(), req_id=None, instance="/ws/", problem_type_base_url=None)
    )

    assert "req_id" not in frame
    assert frame["type"] == "about:blank"


def test_quoted_cuts_long_client_text() -> None:
    assert quoted("chat") == "'chat'"
    assert quoted("x" * 500) == "'" + "x" * 100 + "…'"
