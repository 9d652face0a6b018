"""Send an event from outside any connection: a view, a Celery task, a management command.

The event reaches exactly the connections it would reach had an action yielded it: a user on all
their connections, a group, or one connection, through the channel layer, in every process.
"""

from __future__ import annotations

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from beeflow_websocket.core.event_registry import EventPluginProtocol
from beeflow_websocket.core.push import emit
from beeflow_websocket.django.delivery import ChannelLayerDelivery

__all__ = ["aemit_event", "emit_event"]


async def aemit_event(event: EventPluginProtocol, *, alias: str = "default") -> None:
    """Send ``event`` to its recipient's connections, from async code (async views, consumers).

    Args:
        event: The event to send.
        alias: The ``CHANNEL_LAYERS`` entry to send through.

    Raises:
        RecipientMapDoesNotExist: No resolver is registered under the event's ``recipient``.
        InvalidGroupName: A ``group`` recipient names a group that is not allowed.
        DeliveryUnavailable: The channel layer could not take the event.
    """
    await emit(event, delivery=ChannelLayerDelivery(get_channel_layer(alias)))


def emit_event(event: EventPluginProtocol, *, alias: str = "default") -> None:
    """The same as :func:`aemit_event`, for synchronous code: views, tasks, management commands."""
    async_to_sync(aemit_event)(event, alias=alias)
