"""The ``health`` event: the answer to the ``health`` action, payload ``{"status": "ok"}``."""

from __future__ import annotations

from typing import Final, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from beeflow_websocket.core.event_registry import Event

__all__ = ["HealthEvent", "HealthPayload"]


class HealthPayload(BaseModel):
    """The payload of a ``health`` event."""

    model_config = ConfigDict(frozen=True)

    status: Literal["ok"] = "ok"


_OK: Final = HealthPayload()


class HealthEvent(Event[HealthPayload], name="health", default=True):
    """Tells the client the server is up; the payload defaults to ``{"status": "ok"}``."""

    __slots__ = ()

    def __init__(
        self,
        *,
        recipient: str,
        recipient_id: str | int | UUID,
        req_id: UUID | None = None,
        payload: HealthPayload = _OK,
    ) -> None:
        super().__init__(recipient=recipient, recipient_id=recipient_id, payload=payload, req_id=req_id)
