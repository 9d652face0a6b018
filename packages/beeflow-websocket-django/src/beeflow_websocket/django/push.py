"""Reach connections from outside any connection: a view, a Celery task, a management command.

An event reaches exactly the connections it would reach had an action yielded it: a user on all
their connections, a group, or one connection, in every process: through Redis when
``BEEFLOW_WEBSOCKET_REDIS_URL`` is set, else through the channel layer. A user's connections, or
one connection, are closed the same way (:func:`disconnect_user`, :func:`disconnect_connection`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from beeflow_websocket.core.delivery.local import LocalConnections
from beeflow_websocket.core.event_registry import EventPluginProtocol
from beeflow_websocket.core.guardrails import kick
from beeflow_websocket.core.guardrails.kick import KICKED_CLOSE_CODE, KICKED_REASON
from beeflow_websocket.core.push import emit
from beeflow_websocket.core.transport import Delivery
from beeflow_websocket.django.configuration import dispatcher_settings
from beeflow_websocket.django.delivery import ChannelLayerDelivery
from beeflow_websocket.django.engine import redis_state

__all__ = [
    "adisconnect_connection",
    "adisconnect_user",
    "aemit_event",
    "disconnect_connection",
    "disconnect_user",
    "emit_event",
]


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
    async with _delivery(alias) as delivery:
        await emit(event, delivery=delivery)


def emit_event(event: EventPluginProtocol, *, alias: str = "default") -> None:
    """The same as :func:`aemit_event`, for synchronous code: views, tasks, management commands."""
    async_to_sync(aemit_event)(event, alias=alias)


async def adisconnect_user(
    user_id: object, *, code: int = KICKED_CLOSE_CODE, reason: str = KICKED_REASON, alias: str = "default"
) -> None:
    """Close every connection of ``user_id``, in every process, from async code.

    The clients do not reconnect after the default code (4409, kicked).

    Raises:
        ValueError: ``code`` is not 1000 or 3000-4999, or ``reason`` is over 123 bytes.
        DeliveryUnavailable: Redis, or the channel layer, could not take the request.
    """
    async with _delivery(alias) as delivery:
        await kick.disconnect_user(user_id, delivery=delivery, code=code, reason=reason)


def disconnect_user(
    user_id: object, *, code: int = KICKED_CLOSE_CODE, reason: str = KICKED_REASON, alias: str = "default"
) -> None:
    """The same as :func:`adisconnect_user`, for synchronous code."""
    async_to_sync(adisconnect_user)(user_id, code=code, reason=reason, alias=alias)


async def adisconnect_connection(
    websocket_id: str, *, code: int = KICKED_CLOSE_CODE, reason: str = KICKED_REASON, alias: str = "default"
) -> None:
    """Close the connection ``websocket_id`` (an action's ``context.websocket_id``), from async code.

    Raises:
        ValueError: ``code`` is not 1000 or 3000-4999, or ``reason`` is over 123 bytes.
        DeliveryUnavailable: Redis, or the channel layer, could not take the request.
    """
    async with _delivery(alias) as delivery:
        await kick.disconnect_connection(websocket_id, delivery=delivery, code=code, reason=reason)


def disconnect_connection(
    websocket_id: str, *, code: int = KICKED_CLOSE_CODE, reason: str = KICKED_REASON, alias: str = "default"
) -> None:
    """The same as :func:`adisconnect_connection`, for synchronous code."""
    async_to_sync(adisconnect_connection)(websocket_id, code=code, reason=reason, alias=alias)


@asynccontextmanager
async def _delivery(alias: str) -> AsyncIterator[Delivery]:
    """The engine that reaches every process: Redis when configured, else the channel layer ``alias``."""
    state = redis_state()
    if state is None or state.redis is None:
        yield ChannelLayerDelivery(get_channel_layer(alias), dispatcher_settings().history)
        return
    if state.redis.serves_this_loop():
        yield state.redis  # this process's connections are reached directly
        return
    # Another loop (a task's async_to_sync): publish through an engine of this call's own.
    from beeflow_websocket.core.delivery.redis import RedisDelivery  # redis-py is there: state.redis is

    engine = RedisDelivery(
        state.redis.url,
        LocalConnections(),
        channel_prefix=state.redis.channel_prefix,
        history=state.settings.history,
    )
    try:
        yield engine
    finally:
        await engine.close()
