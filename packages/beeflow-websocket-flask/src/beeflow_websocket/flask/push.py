"""Send an event from outside any connection: a Flask view, a CLI command, a background job.

The event reaches exactly the connections it would reach had an action yielded it: a user on all
their connections, a group, or one connection, in every process the application's engine reaches.
It runs on the application's event loop, where its connections live.
"""

from __future__ import annotations

import asyncio

from flask import Flask, current_app

from beeflow_websocket.core.event_registry import EventPluginProtocol
from beeflow_websocket.core.push import emit
from beeflow_websocket.flask.configuration import adapter_state

__all__ = ["aemit_event", "emit_event"]


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
    state = adapter_state(app or current_app._get_current_object())  # type: ignore[attr-defined]
    state.bridge.run(emit(event, delivery=state.delivery))


async def aemit_event(event: EventPluginProtocol, *, app: Flask | None = None) -> None:
    """The same as :func:`emit_event`, awaitable from a Flask ``async def`` view."""
    state = adapter_state(app or current_app._get_current_object())  # type: ignore[attr-defined]
    await asyncio.wrap_future(
        asyncio.run_coroutine_threadsafe(emit(event, delivery=state.delivery), state.bridge.loop)
    )
