"""Sending an event from outside any connection: an HTTP view, a background task, a command.

Adapters wrap :func:`emit` with their engine (``beeflow_websocket.fastapi.aemit_event``, and so on);
an action's events go through the same resolution, so a pushed event reaches exactly the connections
it would reach had an action yielded it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from beeflow_websocket.core._wire import encode_event
from beeflow_websocket.core.groups import Group
from beeflow_websocket.core.recipient_registry import RecipientRegistryMeta
from beeflow_websocket.core.recipients.websocket import WebSocketRecipient

if TYPE_CHECKING:
    from beeflow_websocket.core.event_registry import EventPluginProtocol
    from beeflow_websocket.core.transport import Delivery, OutboundEvent

__all__ = ["emit", "resolve_recipient"]


async def resolve_recipient(event: EventPluginProtocol) -> tuple[list[str], list[str]]:
    """Resolve an event's recipient into connection ids and group names, each once.

    Raises:
        RecipientMapDoesNotExist: No resolver is registered under the event's ``recipient``.
       InvalidGroupName: A ``group`` recipient names a group that is not allowed.
        InvalidGroupName: A group recipient names a group that is not allowed.
    """
    resolver = RecipientRegistryMeta.registry[event.recipient]
    if resolver is WebSocketRecipient:
        # The built-in resolver names the connection its id names: the answer to most requests.
        return [event.recipient_id], []
    websocket_ids: dict[str, None] = {}
    groups: dict[str, None] = {}
    for target in await resolver().resolve(event.recipient_id):
        if isinstance(target, Group):
            groups[target.name] = None
        else:
            websocket_ids[target] = None
    return list(websocket_ids), list(groups)


async def emit(event: EventPluginProtocol, *, delivery: Delivery) -> OutboundEvent:
    """Send ``event`` to its recipient's connections through ``delivery``; return what was sent.

    Raises:
        RecipientMapDoesNotExist: No resolver is registered under the event's ``recipient``.
        InvalidGroupName: A ``group`` recipient names a group that is not allowed.
        DeliveryUnavailable: The engine could not take the event.
    """
    websocket_ids, groups = await resolve_recipient(event)
    outbound = encode_event(event)
    if websocket_ids:
        await delivery.send_to_connections(websocket_ids, outbound)
    for group in groups:
        await delivery.send_to_group(group, outbound)
    return outbound
