"""The demo's actions, found by autodiscovery because they live in ``demo/ws/actions.py``."""

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from pydantic import BaseModel

from beeflow_websocket.core.action_registry import ActionContext, ActionRegistryMeta
from beeflow_websocket.core.event_registry import Event
from beeflow_websocket.core.payloads import WebSocketActionPayload
from beeflow_websocket.core.problems import WebSocketProblem


class Echoed(Event, name="echoed"):
    """The payload of ``echo``, sent back unchanged."""


class Identity(BaseModel):
    user_id: int | str
    websocket_id: str


class IdentityEvent(Event[Identity], name="identity"):
    """Who you are: send ``whisper`` to another tab's ``websocket_id``."""


class Tick(BaseModel):
    remaining: int


class TickEvent(Event[Tick], name="tick"):
    """One step of a countdown."""


class Rolled(BaseModel):
    sides: int
    result: int
    rolled_at: datetime


class RolledEvent(Event[Rolled], name="rolled"):
    """A die roll; ``rolled_at`` shows a datetime arriving as JSON."""


class Whispered(Event, name="whispered"):
    """A message from another connection."""


def _int(message: WebSocketActionPayload, key: str, default: int, low: int, high: int) -> int:
    value = message.payload.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise WebSocketProblem(
            f"'{key}' must be a whole number from {low} to {high}.",
            status=422,
            code="invalid_demo_payload",
            title="Invalid payload",
            extensions={"field": key},
        )
    return value


class Echo(metaclass=ActionRegistryMeta, name="echo"):
    """Send the payload back."""

    async def execute(self, message: WebSocketActionPayload, context: ActionContext) -> AsyncIterator[Echoed]:
        yield Echoed(
            recipient="websocket",
            recipient_id=context.websocket_id,
            req_id=message.req_id,
            payload=message.payload,
        )


class WhoAmI(metaclass=ActionRegistryMeta, name="whoami"):
    """Tell the connection its user id and connection id."""

    async def execute(
        self, message: WebSocketActionPayload, context: ActionContext
    ) -> AsyncIterator[IdentityEvent]:
        identity = Identity(user_id=context.user_id, websocket_id=context.websocket_id)
        yield IdentityEvent(
            recipient="websocket", recipient_id=context.websocket_id, req_id=message.req_id, payload=identity
        )


class Countdown(metaclass=ActionRegistryMeta, name="countdown"):
    """Yield one event a moment apart: one request, many events."""

    async def execute(
        self, message: WebSocketActionPayload, context: ActionContext
    ) -> AsyncIterator[TickEvent]:
        start = _int(message, "from", 5, 1, 20)
        for remaining in range(start, -1, -1):
            yield TickEvent(
                recipient="websocket",
                recipient_id=context.websocket_id,
                req_id=message.req_id,
                payload=Tick(remaining=remaining),
            )
            if remaining:
                await asyncio.sleep(0.4)


class Roll(metaclass=ActionRegistryMeta, name="roll"):
    """Roll a die with ``sides`` sides; a bad ``sides`` is a 422 domain problem."""

    async def execute(
        self, message: WebSocketActionPayload, context: ActionContext
    ) -> AsyncIterator[RolledEvent]:
        sides = _int(message, "sides", 6, 2, 1000)
        rolled = Rolled(sides=sides, result=random.randint(1, sides), rolled_at=datetime.now(UTC))  # noqa: S311 - a game
        yield RolledEvent(
            recipient="websocket", recipient_id=context.websocket_id, req_id=message.req_id, payload=rolled
        )


class Whisper(metaclass=ActionRegistryMeta, name="whisper"):
    """Send ``text`` to the connection ``to`` (open a second tab and use its ``whoami`` id)."""

    async def execute(self, message: WebSocketActionPayload, context: ActionContext) -> AsyncIterator[Event]:
        target, text = message.payload.get("to"), message.payload.get("text", "")
        if not isinstance(target, str) or not target:
            raise WebSocketProblem(
                "'to' must be a connection id; ask whoami in the other tab.",
                status=422,
                code="invalid_demo_payload",
                title="Invalid payload",
                extensions={"field": "to"},
            )
        payload = {"from_user": str(context.user_id), "from": context.websocket_id, "text": text}
        yield Whispered(recipient="websocket", recipient_id=target, req_id=message.req_id, payload=payload)
        yield Echoed(
            recipient="websocket",
            recipient_id=context.websocket_id,
            req_id=message.req_id,
            payload={"whispered_to": target},
        )
