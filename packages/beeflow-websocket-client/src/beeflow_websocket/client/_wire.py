"""The names and frames of protocol v1 that the client writes: kept here, in one place.

The client needs none of the server's code, so it spells the protocol's reserved names itself; the
client conformance suite (every adapter, both clients) is what holds them equal to the server's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final
from uuid import uuid4

__all__ = [
    "ACCESS_TOKEN",
    "CANCEL_ACTION",
    "COMPLETE_EVENT",
    "DUPLICATE_REQUEST",
    "PING_ACTION",
    "PROTOCOL_V1",
    "REFRESH_ACTION",
    "RESUME_ACTION",
    "RESUME_BATCH",
    "TOKEN_EXPIRING_EVENT",
    "UNRECOVERABLE_POSITION",
    "envelope",
    "json_object",
]

PROTOCOL_V1: Final = "beeflow.v1"
ACCESS_TOKEN: Final = "access-token"  # noqa: S105 - the subprotocol's name, not a secret
CANCEL_ACTION: Final = "beeflow.cancel"
PING_ACTION: Final = "beeflow.ping"
COMPLETE_EVENT: Final = "beeflow.complete"
REFRESH_ACTION: Final = "beeflow.refresh"
TOKEN_EXPIRING_EVENT: Final = "beeflow.token_expiring"  # noqa: S105 - an event name, not a secret
RESUME_ACTION: Final = "beeflow.resume"
RESUME_BATCH: Final = 100  # the most streams one beeflow.resume may name
UNRECOVERABLE_POSITION: Final = "unrecoverable_position"
DUPLICATE_REQUEST: Final = "duplicate_request"  # a request sent again that the server had started


def envelope(action: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """A request frame with fresh ids."""
    return {"msg_id": str(uuid4()), "req_id": str(uuid4()), "action": action, "payload": payload}


def json_object(payload: object) -> Mapping[str, Any]:
    """A payload as the JSON object the envelope carries: a mapping, a pydantic model, or ``{}``.

    Raises:
        TypeError: It is neither a mapping nor a model.
    """
    if payload is None:
        return {}
    dump = getattr(payload, "model_dump", None)
    if dump is not None:
        dumped = dump(mode="json")
        if isinstance(dumped, dict):
            return dumped
    if isinstance(payload, Mapping):
        return payload
    raise TypeError(
        f"a payload is a JSON object: a mapping or a pydantic model, not {type(payload).__name__}"
    )
