"""Send an event from outside any connection: an HTTP endpoint, a background task.

The event reaches exactly the connections it would reach had an action yielded it: a user on all
their connections, a group, or one connection, in every process the application's engine reaches.
"""

from __future__ import annotations

import anyio.from_thread
from starlette.applications import Starlette

from beeflow_websocket.core.event_registry import EventPluginProtocol
from beeflow_websocket.core.push import emit
from beeflow_websocket.fastapi.configuration import adapter_state

__all__ = ["aemit_event", "emit_event"]


async def aemit_event(app: Starlette, event: EventPluginProtocol) -> None:
    """Send ``event`` to its recipient's connections, from async code (``async def`` endpoints).

    Raises:
        RecipientMapDoesNotExist: No resolver is registered under the event's ``recipient``.
        InvalidGroupName: A ``group`` recipient names a group that is not allowed.
        DeliveryUnavailable: The application's engine could not take the event (Redis is down).
    """
    await emit(event, delivery=adapter_state(app).delivery)


def emit_event(app: Starlette, event: EventPluginProtocol) -> None:
    """Send ``event`` from synchronous code that FastAPI runs in its worker threads (``def`` endpoints,
    sync background tasks); it runs on the application's event loop.
    """  # noqa: D205
    anyio.from_thread.run(aemit_event, app, event)
