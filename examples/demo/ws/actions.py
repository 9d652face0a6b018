"""The demo's actions, found by autodiscovery because they live in ``demo/ws/actions.py``.

Each action declares its payload model in ``Action[Model]``: the dispatcher validates the payload
before the action runs and answers one that does not fit with ``invalid_action_payload`` (422),
naming each wrong field, so the actions below never check their input by hand.
"""

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

from pydantic import BaseModel, Field, PositiveInt

from beeflow_websocket.core.action_registry import Action, ActionContext
from beeflow_websocket.core.payloads import ActionMessage
from beeflow_websocket.core.problems import ClientProblem
from demo.ws.events import (
    Identity,
    IdentityEvent,
    JoinedEvent,
    LeftEvent,
    RoomChange,
    RoomMessage,
    RoomMessageEvent,
    Tick,
    TickEvent,
    UserMessage,
    UserMessageEvent,
)

ROOM_PATTERN = r"^[a-z0-9-]{1,30}$"
RoomName = Annotated[str, Field(pattern=ROOM_PATTERN)]
Text = Annotated[str, Field(min_length=1, max_length=200)]

TICK_SECONDS = 0.5


def room_group(room: str) -> str:
    """The group of a room's connections: a prefix keeps rooms apart from other groups."""
    return f"room:{room}"


class NotInRoom(ClientProblem):
    """A domain error: the client gets a Problem Details frame with this status and code."""

    status = 403
    code = "not_in_room"
    title = "Not in the room"


class WhoAmI(Action, name="whoami"):
    """Tell the connection its user, its connection id and its rooms (no payload model)."""

    async def execute(self, message: ActionMessage, context: ActionContext) -> AsyncIterator[IdentityEvent]:
        rooms = sorted(group.removeprefix("room:") for group in context.groups if group.startswith("room:"))
        yield IdentityEvent(
            recipient="websocket",
            recipient_id=context.websocket_id,
            req_id=message.req_id,
            payload=Identity(user_id=context.user_id, websocket_id=context.websocket_id, rooms=rooms),
        )


class CountdownRequest(BaseModel):
    start: int = Field(default=3, ge=1, le=10)


class Countdown(Action[CountdownRequest], name="countdown"):
    """A streamed reply: one event every half second, from ``start`` down to 0."""

    async def execute(
        self, message: ActionMessage[CountdownRequest], context: ActionContext
    ) -> AsyncIterator[TickEvent]:
        for remaining in range(message.payload.start, -1, -1):
            yield TickEvent(
                recipient="websocket",
                recipient_id=context.websocket_id,
                req_id=message.req_id,
                payload=Tick(remaining=remaining),
            )
            if remaining:
                await asyncio.sleep(TICK_SECONDS)


class RoomRequest(BaseModel):
    room: RoomName


class JoinRoom(Action[RoomRequest], name="room.join"):
    """Join a room; everyone in it, this tab included, is told."""

    async def execute(
        self, message: ActionMessage[RoomRequest], context: ActionContext
    ) -> AsyncIterator[JoinedEvent]:
        room = message.payload.room
        await context.join(room_group(room))
        yield JoinedEvent(
            recipient="group",
            recipient_id=room_group(room),
            req_id=message.req_id,
            payload=RoomChange(room=room, user_id=context.user_id, websocket_id=context.websocket_id),
        )


class LeaveRoom(Action[RoomRequest], name="room.leave"):
    """Tell the room this tab is leaving, then leave it."""

    async def execute(
        self, message: ActionMessage[RoomRequest], context: ActionContext
    ) -> AsyncIterator[LeftEvent]:
        room = message.payload.room
        _require_membership(context, room)
        # Yielded before leaving, so that the leaving tab sees the event as well.
        yield LeftEvent(
            recipient="group",
            recipient_id=room_group(room),
            req_id=message.req_id,
            payload=RoomChange(room=room, user_id=context.user_id, websocket_id=context.websocket_id),
        )
        await context.leave(room_group(room))


class SayToRoom(BaseModel):
    room: RoomName
    text: Text


class Say(Action[SayToRoom], name="room.say"):
    """Say something to a room this tab has joined: every tab in the room gets it."""

    async def execute(
        self, message: ActionMessage[SayToRoom], context: ActionContext
    ) -> AsyncIterator[RoomMessageEvent]:
        said = message.payload
        _require_membership(context, said.room)
        yield RoomMessageEvent(
            recipient="group",
            recipient_id=room_group(said.room),
            req_id=message.req_id,
            payload=RoomMessage(room=said.room, user_id=context.user_id, text=said.text),
        )


class SayToUser(BaseModel):
    text: Text
    user_id: PositiveInt | None = None
    """Whose tabs get it; the sender's own tabs when it is left out."""


class Tell(Action[SayToUser], name="user.say"):
    """Say something to every open tab of a user, in every process."""

    async def execute(
        self, message: ActionMessage[SayToUser], context: ActionContext
    ) -> AsyncIterator[UserMessageEvent]:
        said = message.payload
        yield UserMessageEvent(
            recipient="user",
            recipient_id=said.user_id or context.user_id,
            req_id=message.req_id,
            payload=UserMessage(from_user_id=context.user_id, text=said.text),
        )


def _require_membership(context: ActionContext, room: str) -> None:
    if room_group(room) not in context.groups:
        raise NotInRoom(f"Join the room '{room}' first.", extensions={"room": room})
