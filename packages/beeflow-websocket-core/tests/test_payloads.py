from uuid import UUID, uuid4

import pytest
from pydantic import ValidationError

from beeflow_websocket.core.payloads import (
    ErrorPayload,
    WebSocketActionPayload,
    WebSocketEventPayload,
    WebSocketRequestIdentifier,
)

MSG_ID = "0b8e3a64-3b4f-4f0e-9d2b-1d7c0f5e6a01"
REQ_ID = "5d1b7d2c-7a0e-4f65-8b1c-2f3e4d5c6b7a"


def test_an_action_envelope_of_0_3_0_validates() -> None:
    message = WebSocketActionPayload.model_validate_json(
        f'{{"msg_id": "{MSG_ID}", "req_id": "{REQ_ID}", "action": "health", "payload": {{}}}}'
    )

    assert message.msg_id == UUID(MSG_ID)
    assert message.req_id == UUID(REQ_ID)
    assert (message.action, message.payload) == ("health", {})


def test_unknown_envelope_members_are_ignored() -> None:
    message = WebSocketActionPayload.model_validate(
        {"msg_id": MSG_ID, "req_id": REQ_ID, "action": "a", "payload": {}, "extra": 1}
    )

    assert "extra" not in message.model_dump()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"action": ""}, "action"),
        ({"action": " \t"}, "action"),
        ({"action": 5}, "action"),
        ({"payload": []}, "payload"),
        ({"payload": "x"}, "payload"),
        ({"msg_id": "nope"}, "msg_id"),
        ({"req_id": None}, "req_id"),
    ],
)
def test_malformed_fields_are_rejected(change: dict[str, object], field: str) -> None:
    data = {"msg_id": MSG_ID, "req_id": REQ_ID, "action": "a", "payload": {}} | change

    with pytest.raises(ValidationError) as raised:
        WebSocketActionPayload.model_validate(data)

    assert [error["loc"] for error in raised.value.errors()] == [(field,)]


def test_the_request_identifier_reads_only_req_id() -> None:
    assert WebSocketRequestIdentifier.model_validate({"req_id": REQ_ID, "action": 3}).req_id == UUID(REQ_ID)


def test_event_frames_require_a_positive_seq() -> None:
    frame = {
        "msg_id": MSG_ID,
        "seq": 0,
        "event": "e",
        "recipient": "websocket",
        "recipient_id": "c",
        "payload": {},
    }

    with pytest.raises(ValidationError):
        WebSocketEventPayload.model_validate(frame)
    assert WebSocketEventPayload.model_validate(frame | {"seq": 1}).req_id is None


def test_error_frames_keep_extension_members() -> None:
    error = ErrorPayload.model_validate(
        {
            "msg_id": str(uuid4()),
            "type": "about:blank",
            "title": "t",
            "status": 422,
            "detail": "d",
            "code": "c",
            "instance": "/ws/",
            "errors": [{"loc": ["x"]}],
        }
    )

    assert error.model_extra == {"errors": [{"loc": ["x"]}]}
