"""The actions every served test site registers (imported by each site's ws/actions.py)."""

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import date
from uuid import UUID

from pydantic import BaseModel, Field, JsonValue

from beeflow_websocket.core.action_registry import Action, ActionContext, ActionRegistryMeta
from beeflow_websocket.core.event_registry import Event
from beeflow_websocket.core.payloads import ActionMessage, WebSocketActionPayload
from beeflow_websocket.core.problems import WebSocketProblem

logger = logging.getLogger("siteplugins")


class Echoed(Event, name="echoed"):
    """The payload of an echo, sent back."""


class Counted(Event, name="counted"):
    """One step of a countdown."""


class Identity(Event, name="identity"):
    """Who the connection is: its user and connection id."""


class Notified(Event, name="notified"):
    """A message from another connection."""


def answer[E: Event](
    event: type[E], message: WebSocketActionPayload, context: ActionContext, payload: dict[str, JsonValue]
) -> E:
    return event(
        recipient="websocket", recipient_id=context.websocket_id, req_id=message.req_id, payload=payload
    )


class Echo(metaclass=ActionRegistryMeta, name="echo"):
    async def execute(self, message: WebSocketActionPayload, context: ActionContext) -> AsyncIterator[Echoed]:
        yield answer(Echoed, message, context, message.payload)


class Countdown(metaclass=ActionRegistryMeta, name="countdown"):
    async def execute(
        self, message: WebSocketActionPayload, context: ActionContext
    ) -> AsyncIterator[Counted]:
        start = message.payload.get("from", 3)
        assert isinstance(start, int)
        for n in range(start, 0, -1):
            yield answer(Counted, message, context, {"n": n})


class WhoAmI(metaclass=ActionRegistryMeta, name="whoami"):
    async def execute(
        self, message: WebSocketActionPayload, context: ActionContext
    ) -> AsyncIterator[Identity]:
        yield answer(
            Identity,
            message,
            context,
            {"user_id": str(context.user_id), "websocket_id": context.websocket_id},
        )


class Notify(metaclass=ActionRegistryMeta, name="notify"):
    """Send a text to another connection, and confirm to the sender."""

    async def execute(self, message: WebSocketActionPayload, context: ActionContext) -> AsyncIterator[Event]:
        target, text = message.payload["to"], message.payload.get("text", "")
        assert isinstance(target, str)
        yield Notified(
            recipient="websocket", recipient_id=target, req_id=message.req_id, payload={"text": text}
        )
        yield answer(Echoed, message, context, {"sent_to": target})


class Fail(metaclass=ActionRegistryMeta, name="fail"):
    async def execute(self, message: WebSocketActionPayload, context: ActionContext) -> AsyncIterator[Echoed]:
        yield answer(Echoed, message, context, {"before": "failure"})
        raise RuntimeError("the secret ingredient is 42")


class Misbehave(metaclass=ActionRegistryMeta, name="misbehave"):
    """Fails, after its first wait, in the ways that once took a server or its event loop down."""

    async def execute(self, message: WebSocketActionPayload, context: ActionContext) -> AsyncIterator[Echoed]:
        await asyncio.sleep(0)
        how = message.payload.get("how")
        if how == "exit":
            raise SystemExit(2)  # what argparse does with a bad argument
        if how == "interrupt":
            raise KeyboardInterrupt
        if how == "cancelled":
            # A future that someone else cancelled: not a cancellation of this request.
            elsewhere = asyncio.get_running_loop().create_future()
            elsewhere.cancel()
            await elsewhere
        yield answer(Echoed, message, context, {"how": how})


class BrokenInit(metaclass=ActionRegistryMeta, name="broken-init"):
    def __init__(self) -> None:
        raise RuntimeError("this action cannot be built")

    async def execute(self, message: WebSocketActionPayload, context: ActionContext) -> AsyncIterator[Echoed]:
        yield answer(Echoed, message, context, {})


class Seat(BaseModel):
    seat: str = Field(pattern=r"^\d{1,2}[A-F]$")
    passengers: int = Field(ge=1, le=9)
    day: date


class Reserved(BaseModel):
    seat: str
    passengers: int
    day: date
    id: UUID


class ReservedEvent(Event[Reserved], name="reserved"):
    """A typed event: the UUID and the date arrive as JSON strings."""


class Reserve(Action[Seat], name="reserve"):
    """A typed action: the payload is validated against Seat before it runs."""

    async def execute(
        self, message: ActionMessage[Seat], context: ActionContext
    ) -> AsyncIterator[ReservedEvent]:
        seat = message.payload
        reserved = Reserved(
            seat=seat.seat, passengers=seat.passengers, day=seat.day, id=UUID(int=seat.passengers)
        )
        yield ReservedEvent(
            recipient="websocket", recipient_id=context.websocket_id, req_id=message.req_id, payload=reserved
        )


class Refuse(metaclass=ActionRegistryMeta, name="refuse"):
    """A domain error after one event."""

    async def execute(self, message: WebSocketActionPayload, context: ActionContext) -> AsyncIterator[Echoed]:
        yield answer(Echoed, message, context, {"checking": "seat 12A"})
        raise WebSocketProblem(
            "Seat 12A was booked by someone else.",
            status=409,
            code="seat_taken",
            title="Seat already taken",
            extensions={"seat": "12A"},
        )


class Linger(metaclass=ActionRegistryMeta, name="linger"):
    """Yields once, then waits until the client leaves; its finally block logs that it ran.

    With ``"announce": <text>``, it first says ``<text>`` to its user: the user's other connections
    see that it runs.
    """

    async def execute(self, message: WebSocketActionPayload, context: ActionContext) -> AsyncIterator[Event]:
        try:
            if (announce := message.payload.get("announce")) is not None:
                yield Said(
                    recipient="user",
                    recipient_id=str(context.user_id),
                    req_id=message.req_id,
                    payload={"text": str(announce)},
                )
            yield answer(Echoed, message, context, {"lingering": True})
            await asyncio.sleep(3600)
            yield answer(Echoed, message, context, {"never": True})
        finally:
            logger.info("linger %s closed by its finally block", message.req_id)


class Said(Event, name="said"):
    """Something said to a user, a group or a connection."""


class Membership(Event, name="membership"):
    """The groups the connection is in, after joining or leaving."""


class Join(metaclass=ActionRegistryMeta, name="join"):
    async def execute(
        self, message: WebSocketActionPayload, context: ActionContext
    ) -> AsyncIterator[Membership]:
        await context.join(str(message.payload["group"]))
        yield answer(Membership, message, context, {"groups": list[JsonValue](sorted(context.groups))})


class Leave(metaclass=ActionRegistryMeta, name="leave"):
    async def execute(
        self, message: WebSocketActionPayload, context: ActionContext
    ) -> AsyncIterator[Membership]:
        await context.leave(str(message.payload["group"]))
        yield answer(Membership, message, context, {"groups": list[JsonValue](sorted(context.groups))})


class Say(metaclass=ActionRegistryMeta, name="say"):
    """Say ``text`` to ``recipient``/``to``, ``times`` times (``pad`` characters of padding), then confirm.

    With ``"others": true``, the asking connection is left out (everyone but me).
    """

    async def execute(self, message: WebSocketActionPayload, context: ActionContext) -> AsyncIterator[Event]:
        recipient, target = str(message.payload["recipient"]), str(message.payload["to"])
        times, pad = message.payload.get("times", 1), message.payload.get("pad", 0)
        assert isinstance(times, int)
        assert isinstance(pad, int)
        for n in range(times):
            payload: dict[str, JsonValue] = {
                "text": str(message.payload.get("text", "")),
                "n": n,
                "pad": "x" * pad,
            }
            yield Said(
                recipient=recipient,
                recipient_id=target,
                req_id=message.req_id,
                payload=payload,
                exclude_current=message.payload.get("others") is True,
            )
        yield answer(Echoed, message, context, {"said": times})


class Streamed(Event, name="streamed"):
    """One event of a stream."""


class Stream(metaclass=ActionRegistryMeta, name="stream"):
    """Yields ``count`` events ``interval`` seconds apart; its finally block logs that it ran."""

    async def execute(
        self, message: WebSocketActionPayload, context: ActionContext
    ) -> AsyncIterator[Streamed]:
        count, interval = message.payload.get("count", 3), message.payload.get("interval", 0.001)
        assert isinstance(count, int)
        assert isinstance(interval, int | float)
        try:
            for n in range(count):
                yield answer(Streamed, message, context, {"n": n})
                await asyncio.sleep(interval)
        finally:
            logger.info("stream %s closed by its finally block", message.req_id)


class Slow(metaclass=ActionRegistryMeta, name="slow", timeout=0.05):
    """Yields once, then waits past its 50 ms time limit."""

    async def execute(self, message: WebSocketActionPayload, context: ActionContext) -> AsyncIterator[Echoed]:
        yield answer(Echoed, message, context, {"slow": True})
        await asyncio.sleep(60)
        yield answer(Echoed, message, context, {"never": True})


class Limited(metaclass=ActionRegistryMeta, name="limited", rate_limit="3/min", user_rate_limit="4/min"):
    """Three a minute per connection, four per user: past them, 429 ``rate_limited``."""

    async def execute(self, message: WebSocketActionPayload, context: ActionContext) -> AsyncIterator[Echoed]:
        yield answer(Echoed, message, context, {"limited": True})
