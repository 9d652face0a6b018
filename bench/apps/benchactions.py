"""The actions the fan-out benchmark adds to Beeflow: join the ``bench`` group, and say something to it."""

from collections.abc import AsyncIterator

from beeflow_websocket.core.action_registry import ActionContext, ActionRegistryMeta
from beeflow_websocket.core.event_registry import Event
from beeflow_websocket.core.payloads import WebSocketActionPayload

GROUP = "bench"


class Joined(Event, name="bench.joined"):
    """The connection is in the group."""


class Broadcast(Event, name="bench.broadcast"):
    """What one member said to the group."""


class Join(metaclass=ActionRegistryMeta, name="bench.join"):
    async def execute(self, message: WebSocketActionPayload, context: ActionContext) -> AsyncIterator[Joined]:
        await context.join(GROUP)
        yield Joined(recipient="websocket", recipient_id=context.websocket_id, req_id=message.req_id)


class Say(metaclass=ActionRegistryMeta, name="bench.broadcast"):
    async def execute(
        self, message: WebSocketActionPayload, context: ActionContext
    ) -> AsyncIterator[Broadcast]:
        yield Broadcast(recipient="group", recipient_id=GROUP, req_id=message.req_id, payload=message.payload)
