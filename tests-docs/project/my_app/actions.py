"""The actions the documentation's tests exercise: ``echo`` and ``notify``."""

from collections.abc import AsyncIterator

from beeflow_websocket.core.action_registry import ActionContext, ActionRegistryMeta
from beeflow_websocket.core.event_registry import Event
from beeflow_websocket.core.payloads import WebSocketActionPayload


class Echoed(Event, name="echoed"):
    """Sent back to the connection that asked."""


class Notified(Event, name="notified"):
    """Sent to the connection named in the payload's ``to``."""


class Echo(metaclass=ActionRegistryMeta, name="echo"):
    async def execute(self, message: WebSocketActionPayload, context: ActionContext) -> AsyncIterator[Echoed]:
        yield Echoed(
            recipient="websocket",
            recipient_id=context.websocket_id,
            req_id=message.req_id,
            payload=message.payload,
        )


class Notify(metaclass=ActionRegistryMeta, name="notify"):
    async def execute(
        self, message: WebSocketActionPayload, context: ActionContext
    ) -> AsyncIterator[Notified]:
        yield Notified(
            recipient="websocket",
            recipient_id=str(message.payload["to"]),
            req_id=message.req_id,
            payload={"from": context.websocket_id},
        )
