"""Registered at startup by the app's autodiscovery."""

from collections.abc import AsyncIterator

from beeflow_websocket.core.action_registry import ActionContext, ActionRegistryMeta
from beeflow_websocket.core.event_registry import Event
from beeflow_websocket.core.payloads import WebSocketActionPayload


class Said(Event, name="said"):
    """Something said to a connection."""


class Say(metaclass=ActionRegistryMeta, name="say"):
    """Say ``text`` to the connection ``to`` (default: the asking one), ``times`` times."""

    async def execute(self, message: WebSocketActionPayload, context: ActionContext) -> AsyncIterator[Said]:
        target = message.payload.get("to", context.websocket_id)
        times = message.payload.get("times", 1)
        assert isinstance(target, str)
        assert isinstance(times, int)
        for n in range(1, times + 1):
            payload = {"text": message.payload.get("text", ""), "n": n, "from": str(context.user_id)}
            yield Said(recipient="websocket", recipient_id=target, req_id=message.req_id, payload=payload)
