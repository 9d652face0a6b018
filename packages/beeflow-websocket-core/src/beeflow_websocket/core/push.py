"""Sending an event from outside any connection: an HTTP view, a background task, a command.

Adapters wrap :func:`emit` with their engine (``beeflow_websocket.fastapi.aemit_event``, and so on);
it is :func:`beeflow_websocket.core.routing.route`, the path an action's events take too, so a pushed
event reaches exactly the connections it would reach had an action yielded it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from beeflow_websocket.core.routing import resolve_recipient, route

if TYPE_CHECKING:
    from beeflow_websocket.core.event_registry import EventPluginProtocol
    from beeflow_websocket.core.transport import Delivery, OutboundEvent

__all__ = ["emit", "resolve_recipient"]


async def emit(event: EventPluginProtocol, *, delivery: Delivery) -> OutboundEvent:
    """Send ``event`` to its recipient's connections through ``delivery``; return what was sent.

    Raises:
        RecipientMapDoesNotExist: No resolver is registered under the event's ``recipient``.
        InvalidGroupName: A ``group`` recipient names a group that is not allowed.
        DeliveryUnavailable: The engine could not take the event.
    """
    return await route(event, delivery)
