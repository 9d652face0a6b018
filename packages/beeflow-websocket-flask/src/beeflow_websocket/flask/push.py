"""Reach connections from outside any connection: a Flask view, a CLI command, a background job.

An event reaches exactly the connections it would reach had an action yielded it: a user on all
their connections, a group, or one connection, in every process the application's engine reaches.
A user's connections, or one connection, are closed the same way (:func:`disconnect_user`,
:func:`disconnect_connection`). Each runs on the application's event loop, where its connections live.
"""

from __future__ import annotations

import asyncio

from flask import Flask, current_app

from beeflow_websocket.core.event_registry import EventPluginProtocol
from beeflow_websocket.core.guardrails import kick
from beeflow_websocket.core.guardrails.kick import KICKED_CLOSE_CODE, KICKED_REASON
from beeflow_websocket.core.push import emit
from beeflow_websocket.flask.configuration import AdapterState, adapter_state

__all__ = ["aemit_event", "disconnect_connection", "disconnect_user", "emit_event"]


def emit_event(event: EventPluginProtocol, *, app: Flask | None = None) -> None:
    """Send ``event`` to its recipient's connections, and wait until it is handed over.

    Args:
        event: The event to send.
        app: The application; ``current_app`` by default.

    Raises:
        RecipientMapDoesNotExist: No resolver is registered under the event's ``recipient``.
        InvalidGroupName: A ``group`` recipient names a group that is not allowed.
        DeliveryUnavailable: The application's engine could not take the event (Redis is down).
    """
    state = _state(app)
    state.bridge.run(emit(event, delivery=state.delivery))


async def aemit_event(event: EventPluginProtocol, *, app: Flask | None = None) -> None:
    """The same as :func:`emit_event`, awaitable from a Flask ``async def`` view."""
    state = _state(app)
    await asyncio.wrap_future(
        asyncio.run_coroutine_threadsafe(emit(event, delivery=state.delivery), state.bridge.loop)
    )


def disconnect_user(
    user_id: object, *, code: int = KICKED_CLOSE_CODE, reason: str = KICKED_REASON, app: Flask | None = None
) -> None:
    """Close every connection of ``user_id`` in every process the engine reaches; wait until handed over.

    The clients do not reconnect after the default code (4409, kicked).

    Raises:
        ValueError: ``code`` is not 1000 or 3000-4999, or ``reason`` is over 123 bytes.
        DeliveryUnavailable: The application's engine could not take the request (Redis is down).
    """
    state = _state(app)
    state.bridge.run(kick.disconnect_user(user_id, delivery=state.delivery, code=code, reason=reason))


def disconnect_connection(
    websocket_id: str, *, code: int = KICKED_CLOSE_CODE, reason: str = KICKED_REASON, app: Flask | None = None
) -> None:
    """Close the connection ``websocket_id`` (an action's ``context.websocket_id``), wherever it lives.

    Raises:
        ValueError: ``code`` is not 1000 or 3000-4999, or ``reason`` is over 123 bytes.
        DeliveryUnavailable: The application's engine could not take the request (Redis is down).
    """
    state = _state(app)
    state.bridge.run(
        kick.disconnect_connection(websocket_id, delivery=state.delivery, code=code, reason=reason)
    )


def _state(app: Flask | None) -> AdapterState:
    return adapter_state(app or current_app._get_current_object())  # type: ignore[attr-defined]
