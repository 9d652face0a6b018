"""chanx's messages for the closest equivalent of ``health``: a typed request and its typed reply."""

from typing import Literal

from chanx.messages.base import BaseMessage
from pydantic import BaseModel


class Health(BaseMessage):
    action: Literal["health"] = "health"
    payload: dict[str, str] = {}  # noqa: RUF012  (a pydantic field: copied per instance)


class Status(BaseModel):
    status: str


class HealthStatus(BaseMessage):
    action: Literal["health_status"] = "health_status"
    payload: Status
