"""Decoding inbound frames and encoding outbound ones: the protocol's hot path.

Frames are parsed and written with pydantic-core's JSON codec, which is several times faster than
the standard library's and, unlike it, rejects ``NaN`` and ``Infinity`` on input. Floats that
overflow to infinity are written as ``null``, as ``JSON.stringify`` does, so a frame is always JSON.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from random import getrandbits
from typing import Final
from uuid import UUID

from pydantic import BaseModel, JsonValue, ValidationError
from pydantic_core import ErrorDetails, from_json, to_json

from beeflow_websocket.core.event_registry import EventPluginProtocol
from beeflow_websocket.core.history.positions import position_field
from beeflow_websocket.core.payloads import WebSocketActionPayload
from beeflow_websocket.core.problems import (
    InvalidActionPayload,
    InvalidMessage,
    WebSocketProblem,
    problem_type,
)
from beeflow_websocket.core.transport import OutboundEvent

__all__ = [
    "decode_object",
    "encode_completion",
    "encode_event",
    "encode_problem",
    "new_msg_id",
    "quoted",
    "read_req_id",
    "stamp",
    "stamp_final",
    "stamp_positioned",
    "validate_envelope",
    "validate_payload",
]

_VERSION_4: Final = (0x4000 << 64) | (0x8000 << 48)
_VERSION_MASK: Final = ~((0xF000 << 64) | (0xC000 << 48))
_JSON_POSITION: Final = re.compile(r"at line (\d+) column (\d+)")
_JSON_KIND: Final = {list: "an array", str: "a string", int: "a number", float: "a number", bool: "a boolean"}
_MAX_QUOTED: Final = 100
# The model's validator itself: model_validate adds a Python call per frame around the same work.
_validate_envelope: Final = WebSocketActionPayload.__pydantic_validator__.validate_python


def new_msg_id() -> str:
    """Return a random version-4 UUID string.

    Message ids need uniqueness, not secrecy, so they come from the process's PRNG (reseeded in
    forked workers), which is several times cheaper than ``uuid4()`` on every frame.
    """
    value = (getrandbits(128) & _VERSION_MASK) | _VERSION_4
    text = f"{value:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def decode_object(frame: str | bytes) -> dict[str, object]:
    """Parse a text or binary frame that must hold one JSON object.

    Raises:
        InvalidMessage: The frame is not UTF-8 JSON, or its value is not an object.
    """
    try:
        value = from_json(frame, allow_inf_nan=False)
    except ValueError as error:
        raise InvalidMessage(_json_error_detail(frame, error)) from None
    except TypeError:
        # Text with a lone surrogate cannot be encoded as UTF-8; WebSocket servers refuse such
        # frames already, but an in-process caller can still hand one over.
        raise InvalidMessage("The message is not valid Unicode text.") from None
    if not isinstance(value, dict):
        kind = "null" if value is None else _JSON_KIND.get(type(value), "not an object")
        raise InvalidMessage(f"The message must be a JSON object, got {kind}.")
    return value


def read_req_id(data: Mapping[str, object]) -> UUID | None:
    """Return the envelope's ``req_id`` when it is a valid UUID, so errors can still answer it."""
    value = data.get("req_id")
    if not isinstance(value, str):
        return None
    try:
        return UUID(value)
    except ValueError:
        return None


def validate_envelope(data: dict[str, object]) -> WebSocketActionPayload:
    """Validate a decoded object as an action envelope.

    Raises:
        InvalidMessage: A field is missing or malformed; ``errors`` lists each one.
    """
    try:
        message: WebSocketActionPayload = _validate_envelope(data)
    except ValidationError as error:
        errors, fields = _field_errors(error, friendly=True)
        raise InvalidMessage(f"Invalid action envelope: {fields}.", extensions={"errors": errors}) from None
    return message


def validate_payload(model: type[BaseModel] | None, message: WebSocketActionPayload) -> object:
    """Validate the envelope's payload against an action's declared model (``None``: keep it as is).

    Raises:
        InvalidActionPayload: The payload does not fit; ``errors`` lists each wrong field, with its
            path from the envelope (``["payload", ...]``).
    """
    if model is None:
        return message.payload
    try:
        return model.model_validate(message.payload)
    except ValidationError as error:
        errors, fields = _field_errors(error, friendly=False, prefix=("payload",))
        raise InvalidActionPayload(
            f"Invalid payload for action {quoted(message.action)}: {fields}.", extensions={"errors": errors}
        ) from None


def encode_event(event: EventPluginProtocol) -> OutboundEvent:
    """Serialise an event once for every connection that will receive it.

    Raises:
        TypeError: The payload is neither a pydantic model nor a mapping.
        pydantic_core.PydanticSerializationError: The payload holds a value JSON cannot carry.
    """
    payload = event.payload
    if not isinstance(payload, BaseModel) and not isinstance(payload, Mapping):
        raise TypeError(
            f"{type(event).__name__}.payload must be a pydantic model or a mapping, "
            f"got {type(payload).__name__}"
        )
    body = (
        f'{{"event":{_json_text(event.event_name)},"recipient":{_json_text(event.recipient)},'
        f'"recipient_id":{_json_text(event.recipient_id)},'
        f'"payload":{to_json(payload, inf_nan_mode="null").decode()}}}'
    )
    req_id = event.req_id
    return OutboundEvent(None if req_id is None else str(req_id), body)


def _json_text(text: str) -> str:
    """``text`` as a JSON string; names and ids are plain ASCII, which needs no escaping."""
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return f'"{text}"'
    return to_json(text).decode()


def stamp(event: OutboundEvent, seq: int) -> str:
    """Return the frame one connection receives: ``msg_id``, ``req_id`` and its ``seq`` first."""
    if event.req_id is None:
        return f'{{"msg_id":"{new_msg_id()}","seq":{seq},{event.body[1:]}'
    return f'{{"msg_id":"{new_msg_id()}","req_id":"{event.req_id}","seq":{seq},{event.body[1:]}'


def stamp_positioned(event: OutboundEvent, seq: int) -> str:
    """Return a v1 frame of an event kept in a stream's history: with its ``"stream"`` position."""
    assert event.position is not None  # noqa: S101 - called for positioned events only
    head = "" if event.req_id is None else f'"req_id":"{event.req_id}",'
    return f'{{"msg_id":"{new_msg_id()}",{head}"seq":{seq},{position_field(event.position)},{event.body[1:]}'


def stamp_final(event: OutboundEvent, seq: int, final: bool) -> str:
    """Return a v1 request's own event frame: what :func:`stamp` gives, with ``final`` after ``seq``.

    ``final`` is positional: a keyword argument takes the interpreter's slower call path (240
    instructions more per v1 frame, measured in process).
    """
    marker = "true" if final else "false"
    if event.position is not None:
        marker = f"{marker},{position_field(event.position)}"
    if event.req_id is None:
        return f'{{"msg_id":"{new_msg_id()}","seq":{seq},"final":{marker},{event.body[1:]}'
    return (
        f'{{"msg_id":"{new_msg_id()}","req_id":"{event.req_id}","seq":{seq},"final":{marker},{event.body[1:]}'
    )


def encode_completion(req_id: str, seq: int, websocket_id: str, *, events: int) -> str:
    """Return the v1 ``beeflow.complete`` frame that ends request ``req_id`` after ``events`` event frames."""
    return (
        f'{{"msg_id":"{new_msg_id()}","req_id":"{req_id}","seq":{seq},"final":true,'
        f'"event":"beeflow.complete","recipient":"websocket","recipient_id":{_json_text(websocket_id)},'
        f'"payload":{{"events":{events}}}}}'
    )


def encode_problem(
    problem: WebSocketProblem,
    *,
    req_id: UUID | None,
    instance: str,
    problem_type_base_url: str | None,
    final: bool | None = None,
) -> str:
    """Render a problem as an error frame; ``final`` is the v1 marker, left out when ``None``.

    Raises:
        pydantic_core.PydanticSerializationError: An extension member holds a value JSON cannot carry.
    """
    frame: dict[str, JsonValue] = {"msg_id": new_msg_id()}
    if req_id is not None:
        frame["req_id"] = str(req_id)
    if final is not None:
        frame["final"] = final
    frame["type"] = problem_type(problem_type_base_url, problem.type_slug)
    frame["title"] = problem.title
    frame["status"] = problem.status
    frame["detail"] = problem.detail
    frame["code"] = problem.code
    frame["instance"] = instance
    frame.update(problem.extensions)
    return to_json(frame, inf_nan_mode="null").decode()


def quoted(text: str) -> str:
    """Quote client-supplied text for a message, cut short so a frame cannot be made to echo megabytes."""
    if len(text) > _MAX_QUOTED:
        text = text[:_MAX_QUOTED] + "…"
    return repr(text)


def _json_error_detail(frame: str | bytes, error: ValueError) -> str:
    if isinstance(frame, bytes):
        try:
            frame.decode()
        except UnicodeDecodeError:
            return "The binary message is not UTF-8 text."
    position = _JSON_POSITION.search(str(error))
    where = f" (line {position[1]}, column {position[2]})" if position else ""
    return f"The message is not valid JSON{where}."


_FRIENDLY_MESSAGES: Final = {
    "missing": "is required",
    "uuid_parsing": "must be a UUID",
    "uuid_type": "must be a UUID string",
    "string_type": "must be a string",
    "string_too_short": "must not be blank",
    "string_pattern_mismatch": "must not be blank",
    "value_error": "must be a JSON object",
}


def _field_errors(
    error: ValidationError, *, friendly: bool, prefix: tuple[str, ...] = ()
) -> tuple[list[JsonValue], str]:
    """The ``errors`` extension member, and the same errors as one sentence for ``detail``."""
    items = [
        _field_error(detail, friendly=friendly, prefix=prefix)
        for detail in error.errors(include_url=False, include_input=False, include_context=False)
    ]
    sentence = "; ".join(f"{_dotted_loc(item['loc'])} {_lowered(item['msg'])}" for item in items)
    return list[JsonValue](items), sentence


def _field_error(detail: ErrorDetails, *, friendly: bool, prefix: tuple[str, ...]) -> dict[str, JsonValue]:
    kind = detail["type"]
    message = _FRIENDLY_MESSAGES.get(kind, detail["msg"]) if friendly else detail["msg"]
    return {"loc": [*prefix, *detail["loc"]], "msg": message, "type": kind}


def _lowered(message: JsonValue) -> str:
    text = str(message)
    return text[:1].lower() + text[1:]


def _dotted_loc(loc: JsonValue) -> str:
    parts = loc if isinstance(loc, list) else [loc]
    return ".".join(str(part) for part in parts) or "message"
