"""The actions every served test site registers (imported by each site's ws/actions.py)."""

from collections.abc import AsyncIterator

from pydantic import JsonValue

from beeflow_websocket.core.action_registry import ActionContext, ActionRegistryMeta
from beeflow_websocket.core.event_registry import Event
from beeflow_websocket.core.payloads import WebSocketActionPayload


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
