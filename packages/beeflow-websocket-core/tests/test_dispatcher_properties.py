"""Property: whatever a client sends, the dispatcher answers with exactly the documented frames.

Random bytes, random text, random JSON values and mutated valid envelopes each get exactly one
answer frame (these actions answer with one event); the frame has one of the two documented shapes,
carries ``req_id`` exactly when the input had a valid one, and never holds a traceback or exception
text. The dispatcher never raises.
"""

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic_core import from_json

from beeflow_websocket.core.action_registry import ActionContext, ActionRegistryMeta
from beeflow_websocket.core.event_registry import Event
from beeflow_websocket.core.payloads import ErrorPayload, WebSocketActionPayload, WebSocketEventPayload
from beeflow_websocket.core.testing import ActionTestClient

DOCUMENTED_CODES = {"invalid_websocket_message", "unknown_websocket_action", "message_too_large"}
LEAKS = (
    "Traceback",
    'File "',
    ", line ",
    "ValidationError",
    "ValueError",
    "TypeError",
    "KeyError",
    "UnicodeDecodeError",
    "RecursionError",
    "PydanticSerializationError",
)


class PropertyEchoed(Event, name="property-echoed"):
    pass


class PropertyEcho(metaclass=ActionRegistryMeta, name="property-echo"):
    async def execute(
        self, message: WebSocketActionPayload, context: ActionContext
    ) -> AsyncIterator[PropertyEchoed]:
        yield PropertyEchoed(
            recipient="websocket",
            recipient_id=context.websocket_id,
            req_id=message.req_id,
            payload=message.payload,
        )


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
uuids = st.uuids().map(str)
envelopes = st.fixed_dictionaries(
    {
        "msg_id": uuids,
        "req_id": uuids,
        "action": st.sampled_from(["health", "property-echo", "no-such-action", "", "  "])
        | st.text(max_size=10),
        "payload": st.dictionaries(st.text(max_size=8), json_values, max_size=4),
    }
)


@st.composite
def mutated_envelopes(draw: st.DrawFn) -> dict[str, Any]:
    envelope: dict[str, Any] = dict(draw(envelopes))
    for _ in range(draw(st.integers(0, 3))):
        key = draw(st.sampled_from(["msg_id", "req_id", "action", "payload", "extra"]))
        if draw(st.booleans()):
            envelope.pop(key, None)
        else:
            envelope[key] = draw(json_values)
    return envelope


def as_frame(value: Any, binary: bool) -> str | bytes:
    text = json.dumps(value)
    return text.encode() if binary else text


frames = st.one_of(
    st.binary(max_size=64),
    st.text(max_size=64),
    st.builds(as_frame, json_values, st.booleans()),
    st.builds(as_frame, mutated_envelopes(), st.booleans()),
    st.builds(as_frame, envelopes, st.booleans()),
)


def readable_req_id(frame: str | bytes) -> str | None:
    try:
        data = json.loads(frame)
        UUID(data["req_id"])
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
        return None
    return data["req_id"] if isinstance(data.get("req_id"), str) else None


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(frame=frames)
def test_any_frame_gets_exactly_one_documented_answer(frame: str | bytes) -> None:
    client = ActionTestClient(protocol_version=0, user_id=1)
    asyncio.run(client.send_frame(frame))

    [raw] = client.raw_frames
    answer = from_json(raw)
    sent = frame.decode(errors="replace") if isinstance(frame, bytes) else frame
    assert not [leak for leak in LEAKS if leak in raw and leak not in sent], raw
    if "event" in answer:
        WebSocketEventPayload.model_validate(answer)
        assert answer["event"] in {"health", "property-echoed"}
        assert answer["seq"] == 1
    else:
        ErrorPayload.model_validate(answer)
        assert answer["code"] in DOCUMENTED_CODES
        assert "seq" not in answer
    assert answer.get("req_id") == readable_req_id(frame)
