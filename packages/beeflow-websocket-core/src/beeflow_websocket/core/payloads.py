"""The wire format as pydantic models: what clients send and what the server sends back.

These models are the documented contract of 0.3.0. The dispatcher validates inbound envelopes with
:class:`WebSocketActionPayload`; outbound frames are written by the dispatcher's encoder and always
validate against :class:`WebSocketEventPayload` or :class:`ErrorPayload`, which clients and tests
may use to parse what they receive.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Generic
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, JsonValue, PlainValidator, StringConstraints
from typing_extensions import TypeVar

__all__ = [
    "ActionMessage",
    "ActionName",
    "ErrorPayload",
    "JsonObject",
    "WebSocketActionPayload",
    "WebSocketEventPayload",
    "WebSocketRequestIdentifier",
]


def _require_json_object(value: Any) -> dict[str, JsonValue]:
    # Inbound payloads come out of the JSON decoder, so every value is JSON already: checking that
    # the payload is an object is enough, and re-validating each nested value would cost more than
    # the rest of the envelope together.
    if not isinstance(value, dict):
        raise ValueError("must be a JSON object")
    return value


JsonObject = Annotated[dict[str, JsonValue], PlainValidator(_require_json_object)]
"""A JSON object: string keys, JSON values."""

ActionName = Annotated[str, StringConstraints(strip_whitespace=False, min_length=1, pattern=r"\S")]
"""A non-blank action or event name."""


class WebSocketRequestIdentifier(BaseModel):
    """The part of an envelope that identifies the request: enough to answer an error to it.

    Used to recover ``req_id`` from an envelope that is otherwise invalid.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    req_id: UUID


class WebSocketActionPayload(WebSocketRequestIdentifier):
    """A client's request: run ``action`` with ``payload``.

    Attributes:
        msg_id: Unique id of this frame, chosen by the client.
        req_id: Id of the request; every event and error it causes carries it back.
        action: Name of a registered action; not blank.
        payload: The action's input, a JSON object.
    """

    msg_id: UUID
    action: ActionName
    payload: JsonObject


PayloadT = TypeVar("PayloadT", default=dict[str, JsonValue], covariant=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionMessage(Generic[PayloadT]):
    """What an :class:`~beeflow_websocket.core.action_registry.Action` receives: the envelope, typed.

    ``payload`` is an instance of the action's declared model, validated before the action runs; for
    an action declared without a model it is the payload object as received.
    """

    msg_id: UUID
    req_id: UUID
    action: str
    payload: PayloadT


class WebSocketEventPayload(BaseModel):
    """An event frame as the client receives it.

    ``msg_id`` and ``seq`` are added right before delivery: ``seq`` counts the event frames one
    connection receives, from 1 without gaps. ``req_id`` is absent for events that no request caused.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    msg_id: UUID
    req_id: UUID | None = None
    seq: int = Field(ge=1)
    event: ActionName
    recipient: str
    recipient_id: str
    payload: JsonObject


class ErrorPayload(BaseModel):
    """An error frame: RFC 9457 Problem Details plus the envelope's ``msg_id`` and ``req_id``.

    ``req_id`` is present when the failing request carried a valid one. Error frames carry no ``seq``.
    Extension members (such as ``errors``) are kept as extra fields.
    """

    model_config = ConfigDict(frozen=True, extra="allow")

    msg_id: UUID
    req_id: UUID | None = None
    type: str
    title: str
    status: int = Field(ge=100, le=599)
    detail: str
    code: str
    instance: str
