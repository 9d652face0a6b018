"""Send an event from outside any connection: a view, a Celery task, a management command.

The event reaches exactly the connections it would reach had an action yielded it: a user on all
their connections, a group, or one connection, in every process: through Redis when
``BEEFLOW_WEBSOCKET_REDIS_URL`` is set, else through the channel layer.
"""

from __future__ import annotations

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from beeflow_websocket.core.delivery.local import LocalConnections
from beeflow_websocket.core.event_registry import EventPluginProtocol
from beeflow_websocket.core.push import emit
from beeflow_websocket.django.delivery import ChannelLayerDelivery
from beeflow_websocket.django.engine import redis_state

__all__ = ["aemit_event", "emit_event"]


async def aemit_event(event: EventPluginProtocol, *, alias: str = "default") -> None:
    """Send ``event`` to its recipient's connections, from async code (async views, consumers).

    Args:
        event: The event to send.
        alias: The ``CHANNEL_LAYERS`` entry to send through, when ``BEEFLOW_WEBSOCKET_REDIS_URL``
            is not set (with it, the event goes through Redis).

    Raises:
        RecipientMapDoesNotExist: No resolver is registered under the event's ``recipient``.
        InvalidGroupName: A ``group`` recipient names a group that is not allowed.
        DeliveryUnavailable: Redis, or the channel layer, could not take the event.
    """
    state = redis_state()
    if state is None or state.redis is None:
        await emit(event, delivery=ChannelLayerDelivery(get_channel_layer(alias)))
        return
    if state.redis.serves_this_loop():
        await emit(event, delivery=state.redis)  # this process's connections get it directly
        return
    # Another loop (a task's async_to_sync): publish through an engine of this call's own.
    from beeflow_websocket.core.delivery.redis import RedisDelivery  # redis-py is there: state.redis is

    engine = RedisDelivery(state.redis.url, LocalConnections(), channel_prefix=state.redis.channel_prefix)
    try:
        await emit(event, delivery=engine)
    finally:
        await engine.close()


def emit_event(event: EventPluginProtocol, *, alias: str = "default") -> None:
    """The same as :func:`aemit_event`, for synchronous code: views, tasks, management commands."""
    async_to_sync(aemit_event)(event, alias=alias)
