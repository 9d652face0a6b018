"""The events a client receives, and their payloads typed by the application's own event classes.

A client needs none of the server's code, yet where the application's event classes are
importable (a Python service, an end-to-end test) they type the payloads: an event class with a
payload model (``class Reserved(Event[Seat], name="reserved")``) is read by its ``event_name``
and the model in its generic base, duck-typed, so that the client does not depend on the server.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, cast, get_args

__all__ = ["EventTypes", "PayloadModel", "ReceivedEvent"]


class PayloadModel[M](Protocol):
    """A pydantic model class, or anything else with ``model_validate``."""

    def model_validate(self, obj: Any, /) -> M:  # pragma: no cover - a protocol
        """Validate ``obj`` into the model."""


@dataclass(frozen=True, slots=True)
class ReceivedEvent:
    """One event frame.

    Attributes:
        event: The event's name.
        payload: Its payload: an instance of the event's model when the client was given the event
            class, else the JSON object.
        seq: Its number on this connection (1, 2, 3, ... from each connect).
        req_id: The request it answers; ``None`` for a push.
        recipient: The recipient it was addressed to (``websocket``, ``user``, ``group``, ...).
        recipient_id: Whom, under that recipient.
        frame: The whole frame, as received.
    """

    event: str
    payload: Any
    seq: int
    req_id: str | None
    recipient: str | None
    recipient_id: str | None
    frame: Mapping[str, Any]

    def payload_as[M](self, model: type[M]) -> M:
        """The payload as ``model``, a pydantic model class: typed, validated unless it is one already."""
        if isinstance(self.payload, model):
            return self.payload
        validate = getattr(model, "model_validate", None)
        if validate is None:
            raise TypeError(f"{model!r} has no model_validate: pass a pydantic model class")
        return cast("M", validate(self.frame.get("payload")))


class EventTypes:
    """The payload models of the events a client was told about, by event name."""

    __slots__ = ("_models",)

    def __init__(self, classes: Iterable[type] = ()) -> None:
        self._models: dict[str, PayloadModel[Any]] = {}
        for cls in classes:
            name = getattr(cls, "event_name", None)
            model = _payload_model(cls)
            if not isinstance(name, str):
                raise TypeError(f"{cls!r} is not an event class: it has no event_name")
            if model is not None:
                self._models[name] = model

    def read(self, frame: Mapping[str, Any]) -> ReceivedEvent:
        """The event of ``frame``, its payload validated by its model when one is known."""
        name = str(frame["event"])
        payload = frame.get("payload")
        model = self._models.get(name)
        if model is not None:
            payload = model.model_validate(payload)
        req_id, recipient = frame.get("req_id"), frame.get("recipient")
        recipient_id = frame.get("recipient_id")
        return ReceivedEvent(
            event=name,
            payload=payload,
            seq=int(frame.get("seq", 0)),
            req_id=req_id if isinstance(req_id, str) else None,
            recipient=recipient if isinstance(recipient, str) else None,
            recipient_id=recipient_id if isinstance(recipient_id, str) else None,
            frame=frame,
        )


def _payload_model(cls: object) -> PayloadModel[Any] | None:
    """The model of an ``Event[Model]`` class, found in its generic bases; ``None`` if it has none."""
    if not isinstance(cls, type):
        return None
    for klass in cls.__mro__:
        for base in getattr(klass, "__orig_bases__", ()):
            for argument in get_args(base):
                if isinstance(argument, type) and hasattr(argument, "model_validate"):
                    return cast("PayloadModel[Any]", argument)
    return None
