"""Send an event from outside any connection: an HTTP endpoint, a background task.

The event reaches exactly the connections it would reach had an action yielded it: a user on all
their connections, a group, or one connection, in every process the application's engine reaches.
The application is a keyword, as on Flask: ``aemit_event(event, app=app)``. The 0.4 form
``aemit_event(app, event)`` still works and warns (``DeprecationWarning``).
"""

from __future__ import annotations

import warnings
from typing import overload

import anyio.from_thread
from starlette.applications import Starlette
from typing_extensions import deprecated

from beeflow_websocket.core.event_registry import EventPluginProtocol
from beeflow_websocket.core.push import emit
from beeflow_websocket.fastapi.configuration import adapter_state

__all__ = ["aemit_event", "emit_event"]

_OLD_FORM = "pass the application as a keyword: {}(event, app=app); the form {}(app, event) will go in 0.5"


@overload
async def aemit_event(event: EventPluginProtocol, *, app: Starlette) -> None: ...
@overload
@deprecated("pass the application as a keyword: aemit_event(event, app=app)")
async def aemit_event(app: Starlette, event: EventPluginProtocol, /) -> None: ...
async def aemit_event(event: object, app: object = None) -> None:
    """Send ``event`` to its recipient's connections, from async code (``async def`` endpoints).

    Raises:
        RecipientMapDoesNotExist: No resolver is registered under the event's ``recipient``.
        InvalidGroupName: A ``group`` recipient names a group that is not allowed.
        DeliveryUnavailable: The application's engine could not take the event (Redis is down).
    """
    event, app = _arguments(event, app, "aemit_event")
    await emit(event, delivery=adapter_state(app).delivery)


@overload
def emit_event(event: EventPluginProtocol, *, app: Starlette) -> None: ...
@overload
@deprecated("pass the application as a keyword: emit_event(event, app=app)")
def emit_event(app: Starlette, event: EventPluginProtocol, /) -> None: ...
def emit_event(event: object, app: object = None) -> None:
    """Send ``event`` from synchronous code that FastAPI runs in its worker threads (``def`` endpoints,
    sync background tasks); it runs on the application's event loop.
    """  # noqa: D205
    event, app = _arguments(event, app, "emit_event")
    anyio.from_thread.run(_aemit, event, app)


async def _aemit(event: EventPluginProtocol, app: Starlette) -> None:
    await emit(event, delivery=adapter_state(app).delivery)


def _arguments(first: object, second: object, name: str) -> tuple[EventPluginProtocol, Starlette]:
    if isinstance(first, Starlette):
        warnings.warn(_OLD_FORM.format(name, name), DeprecationWarning, stacklevel=3)
        first, second = second, first
    if not isinstance(second, Starlette):
        raise TypeError(f"{name}() needs the application: {name}(event, app=app)")
    return first, second  # type: ignore[return-value]
