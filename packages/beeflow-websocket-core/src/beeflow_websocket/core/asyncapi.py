"""The contract as an AsyncAPI 3.0.0 document, built from the registries.

:func:`asyncapi_document` describes what a client may send and what it gets back, from the classes
an application registered: every action is a ``receive`` operation on the one WebSocket channel,
whose ``reply`` lists the events its ``execute`` is annotated to yield (unions included), the
``beeflow.complete`` event and the problems it may end with; every event and every problem type is a
message whose payload is the frame's JSON Schema, the pydantic model's schema inside it. Pushes to the
``user`` and ``group`` recipients are ``send`` operations; ``req_id`` is the correlation id; the access
token is a security scheme. AsyncAPI 3 allows one reply per operation, so the shape of a stream
(events, then exactly one terminal frame) is told in the ``x-beeflow-stream`` extension, and the
close codes the server closes a connection with, and whether to reconnect after each, in the
channel's ``x-beeflow-close-codes``.

The models' schemas are normalised for AsyncAPI (:mod:`._asyncapi_schemas`), and the classes' annotations
read by :mod:`._asyncapi_annotations`. The document is
deterministic: the same registries give the same text, so a committed copy can be diffed in review.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Mapping
from typing import Any, Final, Literal

from pydantic import BaseModel, JsonValue

from beeflow_websocket.core._asyncapi_annotations import event_model, yielded_events
from beeflow_websocket.core._asyncapi_reserved import (
    CANCEL_DOC,
    CLOSE_CODES,
    PING_DOC,
    REFRESH_DOC,
    RESERVED_EVENTS,
    RESUME_DOC,
    RESUME_PAYLOAD,
    RESUMED,
    RESUMED_DOC,
    STREAM,
)
from beeflow_websocket.core._asyncapi_schemas import model_schemas
from beeflow_websocket.core.action_registry import ActionRegistryMeta
from beeflow_websocket.core.event_registry import EventRegistryMeta
from beeflow_websocket.core.guardrails.expiry import EXPIRING_EVENT
from beeflow_websocket.core.history.replay import RESUMED_EVENT
from beeflow_websocket.core.problems import (
    ActionTimeout,
    DeliveryUnavailable,
    DuplicateRequest,
    InternalError,
    InvalidActionPayload,
    InvalidGroupName,
    InvalidMessage,
    MessageTooLarge,
    RateLimited,
    RequestCancelled,
    TokenRefused,
    UnknownAction,
    UnknownRequest,
    UnrecoverablePosition,
    WebSocketProblem,
)
from beeflow_websocket.core.protocol import (
    CANCEL_ACTION,
    COMPLETE_EVENT,
    PING_ACTION,
    REFRESH_ACTION,
    RESUME_ACTION,
)

__all__ = ["ASYNCAPI_VERSION", "asyncapi_document"]

type Json = dict[str, Any]  # a JSON object being built; the document is plain JSON values

ASYNCAPI_VERSION: Final = "3.0.0"
CHANNEL: Final = "websocket"
_SCHEMAS: Final = "#/components/schemas/"
_KEY: Final = re.compile(r"[^\w.\-]")

BUILTIN_PROBLEMS: Final[tuple[type[WebSocketProblem], ...]] = (
    InvalidMessage,
    MessageTooLarge,
    UnknownAction,
    InvalidActionPayload,
    InvalidGroupName,
    InternalError,
    DeliveryUnavailable,
    RequestCancelled,
    UnknownRequest,
    ActionTimeout,
    RateLimited,
    TokenRefused,
    UnrecoverablePosition,
    DuplicateRequest,
)
"""The problems the library itself answers with."""

_REJECTIONS: Final = (InvalidMessage, MessageTooLarge, UnknownAction)
_UUID: Final = {"type": "string", "format": "uuid"}
_OPEN_OBJECT: Final = {"type": "object", "additionalProperties": True}
_STREAM_RULE: Final = (
    "Zero or more frames of the request with final: false, then exactly one terminal frame with "
    "final: true: its last event when the action ended before that event was written, else the "
    "beeflow.complete event, or the problem that ended it. Nothing of the request follows. Protocol v1 "
    "(the subprotocol beeflow.v1) only; a client of protocol 0 gets the same frames without final "
    "and without beeflow.complete."
)


def asyncapi_document(
    *,
    title: str = "Beeflow WebSocket API",
    version: str = "1.0.0",
    description: str | None = None,
    path: str = "/ws/",
    servers: Mapping[str, Mapping[str, str]] | None = None,
    default_timeout: float | None = None,
) -> dict[str, JsonValue]:
    """The AsyncAPI 3.0.0 document of the actions, events and recipients registered now.

    Args:
        title: ``info.title``.
        version: ``info.version``: the version of the application's API, not of this library.
        description: ``info.description`` (Markdown); a description of the protocol by default.
        path: The WebSocket route's path, the channel's address.
        servers: ``servers``, by name: each a ``host`` (with its port) and a ``protocol`` (``ws`` or
            ``wss``); none by default, since a document written to a file knows no host.
        default_timeout: The ``action_timeout`` setting, when the document should say which actions
            it limits.
    """
    document: dict[str, JsonValue] = _Builder(default_timeout).document(
        title=title, version=version, description=description, path=path, servers=servers
    )
    return document


class _Builder:
    """Collects messages and schemas while it walks the registries."""

    def __init__(self, default_timeout: float | None) -> None:
        self.default_timeout = default_timeout
        self.messages: dict[str, Json] = {}
        self.keys: dict[tuple[str, str], str] = {}  # (kind, name) -> message key
        self.models: list[
            tuple[type[BaseModel], Literal["validation", "serialization"]]
        ] = []  # (model, mode), in the order met

    def document(
        self,
        *,
        title: str,
        version: str,
        description: str | None,
        path: str,
        servers: Mapping[str, Mapping[str, str]] | None,
    ) -> Json:
        events = {name: EventRegistryMeta.registry[name] for name in sorted(EventRegistryMeta.registry)}
        actions = {name: ActionRegistryMeta.registry[name] for name in sorted(ActionRegistryMeta.registry)}
        payloads = {name: event_model(cls) for name, cls in events.items()}
        inputs = {name: getattr(cls, "payload_model", None) for name, cls in actions.items()}
        self.models = [(model, "serialization") for model in payloads.values() if model is not None]
        self.models += [(model, "validation") for model in inputs.values() if model is not None]
        refs, schemas = self._schemas()

        for name, event_class in events.items():
            model = payloads[name]
            self._event_message(name, event_class, refs[(model, "serialization")] if model else None)
        self._reserved_events()
        problems = list(BUILTIN_PROBLEMS)
        for action_class in actions.values():
            declared = getattr(action_class, "action_problems", ())
            problems += [problem for problem in declared if problem not in problems]
        for problem in problems:
            self._problem_message(problem)

        operations: Json = {}
        for name, action_class in actions.items():
            model = inputs[name]
            key = self._action_message(name, action_class, refs[(model, "validation")] if model else None)
            operations[_key(name)] = self._action_operation(
                name, action_class, key, list(events), model is not None
            )
        operations.update(self._reserved_operations())
        operations[_key(EXPIRING_EVENT)] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{CHANNEL}"},
            "title": "Credentials expiring",
            "summary": "Sent token_expiry_notice seconds before the connection's credentials expire.",
            "description": REFRESH_DOC,
            "messages": [self._ref(self.keys[("event", EXPIRING_EVENT)])],
        }
        for recipient in ("user", "group"):
            operations[f"push.{recipient}"] = self._push_operation(recipient, list(events))
        operations["beeflow.rejections"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{CHANNEL}"},
            "title": "Rejected frames",
            "summary": "The answer to a frame that is not a request of a registered action.",
            "description": (
                "A frame that is not JSON, is too large, or names no registered action is answered with "
                "one of these problems, to its req_id when one could be read (then it is the request's "
                "terminal frame), and the connection stays open."
            ),
            "messages": [self._ref(self.keys[("problem", problem.code)]) for problem in _REJECTIONS],
        }

        info: Json = {"title": title, "version": version}
        info["description"] = description if description is not None else _DESCRIPTION
        document: Json = {"asyncapi": ASYNCAPI_VERSION, "info": info}
        if servers:
            document["servers"] = {
                server_name: {
                    "host": server["host"],
                    "protocol": server.get("protocol", "ws"),
                    "security": [{"$ref": "#/components/securitySchemes/accessToken"}],
                }
                for server_name, server in sorted(servers.items())
            }
        document["defaultContentType"] = "application/json"
        document["channels"] = {
            CHANNEL: {
                "address": path,
                "title": "The WebSocket connection",
                "description": (
                    "Every frame is a JSON object in a text frame. The client sends action envelopes; the "
                    "server sends event frames and Problem Details (RFC 9457) frames."
                ),
                "messages": {key: {"$ref": f"#/components/messages/{key}"} for key in sorted(self.messages)},
                "x-beeflow-close-codes": CLOSE_CODES,
            }
        }
        document["operations"] = operations
        document["components"] = {
            "schemas": schemas,
            "messages": {key: self.messages[key] for key in sorted(self.messages)},
            "securitySchemes": {"accessToken": _ACCESS_TOKEN},
            "correlationIds": {
                "reqId": {
                    "description": "The request a frame belongs to: the req_id its client chose.",
                    "location": "$message.payload#/req_id",
                }
            },
        }
        return document

    # Messages

    def _add(self, kind: str, name: str, message: Json) -> str:
        key = _key(f"{kind}.{name}")
        while key in self.messages:
            key += "_"
        self.keys[(kind, name)] = key
        self.messages[key] = message
        return key

    def _ref(self, key: str) -> Json:
        return {"$ref": f"#/channels/{CHANNEL}/messages/{_pointer(key)}"}

    def _action_message(self, name: str, cls: type, payload: Any) -> str:
        envelope = {
            "type": "object",
            "required": ["msg_id", "req_id", "action", "payload"],
            "properties": {
                "msg_id": {**_UUID, "description": "This frame's id, chosen by the client."},
                "req_id": {**_UUID, "description": "The request's id; every frame of its answer carries it."},
                "action": {"type": "string", "const": name},
                "payload": payload if payload is not None else _OPEN_OBJECT,
            },
        }
        return self._add("action", name, _message(name, cls.__doc__, envelope, kind="Action"))

    def _event_message(self, name: str, cls: type, payload: Any) -> None:
        self._add("event", name, _message(name, cls.__doc__, _event_frame(name, payload), kind="Event"))

    def _reserved_events(self) -> None:
        """The protocol's own events: one number in the payload each."""
        for name, member, kind, meaning, doc in RESERVED_EVENTS:
            schema = {"type": kind, "minimum": 0, "description": meaning}
            payload = {"type": "object", "required": [member], "properties": {member: schema}}
            self._add("event", name, _message(name, doc, _event_frame(name, payload)))
        resumed = _message(RESUMED_EVENT, RESUMED_DOC, _event_frame(RESUMED_EVENT, RESUMED))
        self._add("event", RESUMED_EVENT, resumed)

    def _problem_message(self, problem: type[WebSocketProblem]) -> None:
        if ("problem", problem.code) in self.keys:
            return
        properties: Json = {
            "msg_id": _UUID,
            "req_id": {**_UUID, "description": "The request it answers, when one could be read."},
            "final": _FINAL,
            "type": {"type": "string", "description": "<problem_type_base_url>/<slug>, or about:blank."},
            "title": {"type": "string", "const": problem.title},
            "status": {"type": "integer", "const": problem.status},
            "detail": {"type": "string", "description": "What went wrong this time."},
            "code": {"type": "string", "const": problem.code},
            "instance": {"type": "string", "description": "The connection's path."},
        }
        if problem in (InvalidMessage, InvalidActionPayload):
            properties["errors"] = _FIELD_ERRORS
        frame = {
            "type": "object",
            "required": ["msg_id", "type", "title", "status", "detail", "code", "instance"],
            "properties": properties,
            "additionalProperties": True,
        }
        summary = f"{problem.status} {problem.title}"
        self._add("problem", problem.code, _message(problem.code, problem.__doc__, frame, summary=summary))

    # Operations

    def _action_operation(self, name: str, cls: type, key: str, all_events: list[str], typed: bool) -> Json:
        yielded = yielded_events(cls)
        events = list(yielded if yielded is not None else all_events)
        timeout = getattr(cls, "action_timeout", None) or self.default_timeout
        problems: list[type[WebSocketProblem]] = list(getattr(cls, "action_problems", ()))
        if typed:
            problems.append(InvalidActionPayload)
        problems += [InternalError, DeliveryUnavailable, RequestCancelled]
        if timeout is not None:
            problems.append(ActionTimeout)
        if getattr(cls, "action_rate_limit", None) or getattr(cls, "action_user_rate_limit", None):
            problems.append(RateLimited)  # the settings' limits, for all actions, are the server's to say
        codes = list(dict.fromkeys(problem.code for problem in problems))
        replies = [self.keys[("event", event)] for event in events if ("event", event) in self.keys]
        replies.append(self.keys[("event", COMPLETE_EVENT)])
        replies += [self.keys[("problem", code)] for code in codes]
        stream: Json = {
            "events": list[Any](events),
            "completion": COMPLETE_EVENT,
            "problems": list[Any](codes),
            "rule": _STREAM_RULE,
        }
        if yielded is None:
            stream["events_declared"] = False  # execute's annotation names no registered event
        if timeout is not None:
            stream["timeout_seconds"] = timeout
        operation: Json = {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{CHANNEL}"},
            "title": name,
            "messages": [self._ref(key)],
            "reply": {
                "channel": {"$ref": f"#/channels/{CHANNEL}"},
                "messages": list[Any](map(self._ref, replies)),
            },
            "security": [{"$ref": "#/components/securitySchemes/accessToken"}],
            "x-beeflow-stream": stream,
        }
        summary, description = _doc(cls.__doc__)
        if summary:
            operation["summary"] = summary
        if description:
            operation["description"] = description
        return operation

    def _reserved_operations(self) -> Json:
        cancel_payload = {
            "type": "object",
            "required": ["req_id"],
            "properties": {"req_id": {**_UUID, "description": "The request to stop."}},
            "additionalProperties": False,
        }
        cancel = self._action_message(
            CANCEL_ACTION, type("Cancel", (), {"__doc__": CANCEL_DOC}), cancel_payload
        )
        ping = self._action_message(
            PING_ACTION, type("Ping", (), {"__doc__": PING_DOC}), {"type": "object", "maxProperties": 0}
        )
        refresh_payload = {
            "type": "object",
            "required": ["token"],
            "properties": {"token": {"type": "string", "minLength": 1, "description": "A fresh token."}},
            "additionalProperties": False,
        }
        refresh = self._action_message(
            REFRESH_ACTION, type("Refresh", (), {"__doc__": REFRESH_DOC}), refresh_payload
        )
        resume = self._action_message(
            RESUME_ACTION, type("Resume", (), {"__doc__": RESUME_DOC}), RESUME_PAYLOAD
        )
        complete = self._ref(self.keys[("event", COMPLETE_EVENT)])

        def operation(key: str, doc: str, replies: list[Any], problems: list[str]) -> Json:
            summary, description = _doc(doc)
            return {
                "action": "receive",
                "channel": {"$ref": f"#/channels/{CHANNEL}"},
                "title": key.removeprefix("action."),
                "summary": summary,
                "description": description,
                "messages": [self._ref(key)],
                "reply": {"channel": {"$ref": f"#/channels/{CHANNEL}"}, "messages": replies},
                "security": [{"$ref": "#/components/securitySchemes/accessToken"}],
                "x-beeflow-stream": {
                    "events": [],
                    "completion": COMPLETE_EVENT,
                    "problems": list[Any](problems),
                    "rule": _STREAM_RULE,
                },
            }

        unknown = self._ref(self.keys[("problem", UnknownRequest.code)])
        invalid = self._ref(self.keys[("problem", InvalidActionPayload.code)])
        return {
            _key(CANCEL_ACTION): operation(
                cancel,
                CANCEL_DOC,
                [complete, unknown, invalid],
                ["unknown_request", "invalid_action_payload"],
            ),
            _key(PING_ACTION): operation(ping, PING_DOC, [complete], []),
            _key(REFRESH_ACTION): operation(
                refresh,
                REFRESH_DOC,
                [complete, self._ref(self.keys[("problem", TokenRefused.code)]), invalid],
                ["token_refused", "invalid_action_payload"],
            ),
            _key(RESUME_ACTION): operation(
                resume,
                RESUME_DOC,
                [
                    self._ref(self.keys[("event", RESUMED_EVENT)]),
                    complete,
                    self._ref(self.keys[("problem", UnrecoverablePosition.code)]),
                    self._ref(self.keys[("problem", DeliveryUnavailable.code)]),
                    invalid,
                ],
                ["unrecoverable_position", "delivery_unavailable", "invalid_action_payload"],
            ),
        }

    def _push_operation(self, recipient: str, events: list[str]) -> Json:
        return {
            "action": "send",
            "channel": {"$ref": f"#/channels/{CHANNEL}"},
            "title": f"Push to a {recipient}",
            "summary": f"An event sent to every connection of a {recipient}, by an action or by a push.",
            "description": (
                f"Events addressed to the `{recipient}` recipient reach every connection of that {recipient} "
                "(without the asking connection when it is left out). They carry no final: they end no "
                "request of the connection that receives them, unless it asked for them."
            ),
            "messages": [self._ref(self.keys[("event", event)]) for event in events],
        }

    # Schemas

    def _schemas(self) -> tuple[dict[tuple[Any, str], Any], Json]:
        """Each model's schema (a reference, or the schema itself) and the shared definitions."""
        return model_schemas(self.models, _SCHEMAS)


def _event_frame(name: str, payload: Any) -> Json:
    return {
        "type": "object",
        "required": ["msg_id", "seq", "event", "recipient", "recipient_id", "payload"],
        "properties": {
            "msg_id": {**_UUID, "description": "This frame's id."},
            "req_id": {**_UUID, "description": "The request it answers; absent when no request caused it."},
            "seq": {
                "type": "integer",
                "minimum": 1,
                "description": "Counts the event frames this connection received: 1, 2, 3, without gaps.",
            },
            "final": _FINAL,
            "stream": STREAM,
            "event": {"type": "string", "const": name},
            "recipient": {"type": "string", "description": "The recipient it was addressed to."},
            "recipient_id": {"type": "string", "description": "Which one of that recipient."},
            "payload": payload if payload is not None else _OPEN_OBJECT,
        },
    }


def _message(
    name: str,
    doc: str | None,
    payload: Json,
    *,
    kind: str | None = None,
    summary: str | None = None,
) -> Json:
    first, rest = _doc(doc)
    message: Json = {"name": name, "title": f"{kind} {name}" if kind else name}
    if summary or first:
        message["summary"] = summary or first
    if rest or (summary and first):
        message["description"] = "\n\n".join(part for part in (first if summary else "", rest) if part)
    message["contentType"] = "application/json"
    message["payload"] = payload
    message["correlationId"] = {"$ref": "#/components/correlationIds/reqId"}
    return message


def _doc(doc: str | None) -> tuple[str, str]:
    """A docstring's first paragraph (the summary) and the rest."""
    text = inspect.cleandoc(doc or "")
    first, _, rest = text.partition("\n\n")
    return " ".join(first.split()), rest.strip()


def _key(name: str) -> str:
    """A component key AsyncAPI accepts (letters, digits, ``.``, ``-``, ``_``)."""
    return _KEY.sub("_", name)


def _pointer(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


_FINAL: Final = {
    "type": "boolean",
    "description": (
        "Protocol v1: true on the request's terminal frame, false on its other frames; absent on "
        "frames that end no request of this connection."
    ),
}
_FIELD_ERRORS: Final = {
    "type": "array",
    "description": "Each wrong field: its path, a message, and pydantic's error type.",
    "items": {
        "type": "object",
        "required": ["loc", "msg", "type"],
        "properties": {
            "loc": {"type": "array", "items": {"type": ["string", "integer"]}},
            "msg": {"type": "string"},
            "type": {"type": "string"},
        },
    },
}
_ACCESS_TOKEN: Final = {
    "type": "httpApiKey",
    "name": "Sec-WebSocket-Protocol",
    "in": "header",
    "description": (
        "Browsers cannot set headers on a WebSocket handshake, so the token is offered as a subprotocol: "
        '`new WebSocket(url, ["beeflow.v1", "access-token", token])`. The server selects `beeflow.v1` '
        "(or `access-token` for a client of protocol 0), never the token."
    ),
}
_DESCRIPTION: Final = """Typed WebSocket actions and events (Beeflow WebSocket).

A client sends an action envelope; the action answers with events, and every error is an RFC 9457
Problem Details frame. A client that offers the subprotocol `beeflow.v1` speaks protocol v1: every
request ends with exactly one frame marked `"final": true` (see `x-beeflow-stream` on each
operation), and `beeflow.cancel` and `beeflow.ping` are understood."""
