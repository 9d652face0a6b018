"""Reach connections from outside any connection: an HTTP endpoint, a background task.

The event reaches exactly the connections it would reach had an action yielded it: a user on all
their connections, a group, or one connection, in every process the application's engine reaches.
A user's connections, or one connection, are closed the same way (:func:`adisconnect_user`,
:func:`adisconnect_connection`). The application is a keyword, as on Flask:
``aemit_event(event, app=app)``. The 0.4 form ``aemit_event(app, event)`` still works and warns
(``DeprecationWarning``).
"""

from __future__ import annotations

import warnings
from functools import partial
from typing import overload

import anyio.from_thread
from starlette.applications import Starlette
from typing_extensions import deprecated

from beeflow_websocket.core.event_registry import EventPluginProtocol
from beeflow_websocket.core.guardrails import kick
from beeflow_websocket.core.guardrails.kick import KICKED_CLOSE_CODE, KICKED_REASON
from beeflow_websocket.core.push import emit
from beeflow_websocket.fastapi.configuration import adapter_state

__all__ = [
    "adisconnect_connection",
    "adisconnect_user",
    "aemit_event",
    "disconnect_connection",
    "disconnect_user",
    "emit_event",
]

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


async def adisconnect_user(
    user_id: object, *, app: Starlette, code: int = KICKED_CLOSE_CODE, reason: str = KICKED_REASON
) -> None:
    """Close every connection of ``user_id`` in every process the application's engine reaches.

    The clients do not reconnect after the default code (4409, kicked).

    Raises:
        ValueError: ``code`` is not 1000 or 3000-4999, or ``reason`` is over 123 bytes.
        DeliveryUnavailable: The application's engine could not take the request (Redis is down).
    """
    await kick.disconnect_user(user_id, delivery=adapter_state(app).delivery, code=code, reason=reason)


def disconnect_user(
    user_id: object, *, app: Starlette, code: int = KICKED_CLOSE_CODE, reason: str = KICKED_REASON
) -> None:
    """The same as :func:`adisconnect_user`, from FastAPI's worker threads (``def`` endpoints)."""
    anyio.from_thread.run(partial(adisconnect_user, user_id, app=app, code=code, reason=reason))


async def adisconnect_connection(
    websocket_id: str, *, app: Starlette, code: int = KICKED_CLOSE_CODE, reason: str = KICKED_REASON
) -> None:
    """Close the connection ``websocket_id`` (an action's ``context.websocket_id``), wherever it lives.

    Raises:
        ValueError: ``code`` is not 1000 or 3000-4999, or ``reason`` is over 123 bytes.
        DeliveryUnavailable: The application's engine could not take the request (Redis is down).
    """
    delivery = adapter_state(app).delivery
    await kick.disconnect_connection(websocket_id, delivery=delivery, code=code, reason=reason)


def disconnect_connection(
    websocket_id: str, *, app: Starlette, code: int = KICKED_CLOSE_CODE, reason: str = KICKED_REASON
) -> None:
    """The same as :func:`adisconnect_connection`, from FastAPI's worker threads (``def`` endpoints)."""
    anyio.from_thread.run(partial(adisconnect_connection, websocket_id, app=app, code=code, reason=reason))


def _arguments(first: object, second: object, name: str) -> tuple[EventPluginProtocol, Starlette]:
    if isinstance(first, Starlette):
        warnings.warn(_OLD_FORM.format(name, name), DeprecationWarning, stacklevel=3)
        first, second = second, first
    if not isinstance(second, Starlette):
        raise TypeError(f"{name}() needs the application: {name}(event, app=app)")
    return first, second  # type: ignore[return-value]
