"""What the demo's server sends: each event with the model of its payload."""

from pydantic import BaseModel

from beeflow_websocket.core.action_registry import UserId
from beeflow_websocket.core.event_registry import Event


class Identity(BaseModel):
    user_id: UserId
    websocket_id: str
    rooms: list[str]


class IdentityEvent(Event[Identity], name="identity"):
    """Who the connection is, and the rooms it is in."""


class Tick(BaseModel):
    remaining: int


class TickEvent(Event[Tick], name="countdown.tick"):
    """One step of a countdown: one request, several events over time."""


class RoomChange(BaseModel):
    room: str
    user_id: UserId
    websocket_id: str


class JoinedEvent(Event[RoomChange], name="room.joined"):
    """A tab joined the room; every tab in the room sees it."""


class LeftEvent(Event[RoomChange], name="room.left"):
    """A tab is leaving the room; every tab in the room, the leaving one too, sees it."""


class RoomMessage(BaseModel):
    room: str
    user_id: UserId
    text: str


class RoomMessageEvent(Event[RoomMessage], name="room.message"):
    """Something said to a room."""


class UserMessage(BaseModel):
    from_user_id: UserId
    text: str


class UserMessageEvent(Event[UserMessage], name="user.message"):
    """Something said to a user: every tab of theirs gets it."""


class Notice(BaseModel):
    text: str
    via: str


class NoticeEvent(Event[Notice], name="notice"):
    """Pushed from an HTTP endpoint, not caused by any WebSocket request."""
