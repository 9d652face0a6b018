"""Only found when BEEFLOW_WEBSOCKET_AUTODISCOVER_MODULES names "handlers"."""

from collections.abc import AsyncIterator

from beeflow_websocket.core.action_registry import ActionContext, ActionRegistryMeta
from beeflow_websocket.core.event_registry import Event
from beeflow_websocket.core.payloads import WebSocketActionPayload


class Handled(metaclass=ActionRegistryMeta, name="handled"):
    async def execute(self, message: WebSocketActionPayload, context: ActionContext) -> AsyncIterator[Event]:
        nothing: tuple[Event, ...] = ()
        for event in nothing:
            yield event
