"""``configure_beeflow_websocket`` for FastAPI: settings and live connections, kept per application."""

from __future__ import annotations

from typing import Unpack

from starlette.applications import Starlette

from beeflow_websocket.core.configuration import AdapterOptions, AdapterState, configure_adapter
from beeflow_websocket.fastapi.contract import add_contract_routes

__all__ = ["AdapterState", "adapter_state", "configure_beeflow_websocket"]

_STATE_ATTRIBUTE = "beeflow_websocket"
STATE_CLASS = AdapterState


def configure_beeflow_websocket(app: Starlette, **options: Unpack[AdapterOptions]) -> None:
    """Configure Beeflow WebSocket on a FastAPI (or Starlette) application.

    The settings live on this application only: two applications in one process do not see each
    other's. Autodiscovery imports the conventional plugin modules of the package that called this
    function and of its parent packages. With ``asyncapi`` set, the application serves the contract
    (the AsyncAPI document and the page that renders it) at its path.

    Args:
        app: The FastAPI or Starlette application.
        **options: The keywords of the core's table of options
            (:data:`~beeflow_websocket.core.options.OPTIONS`), the same on every adapter.

    Raises:
        TypeError: ``app`` is not a Starlette application; or what
            :func:`~beeflow_websocket.core.configuration.configure_adapter` raises for a keyword
            (``ValueError`` too), or an existing plugin module raises while it is imported.
    """
    if not isinstance(app, Starlette):
        raise TypeError(f"expected a FastAPI or Starlette application, got {type(app).__name__}")
    state = configure_adapter(STATE_CLASS, caller_depth=1, **options)
    setattr(app.state, _STATE_ATTRIBUTE, state)
    if state.contract is not None:
        add_contract_routes(app, state.contract)


def adapter_state(app: Starlette) -> AdapterState:
    """Return the application's adapter state, creating the defaults for an unconfigured one."""
    current = getattr(app.state, _STATE_ATTRIBUTE, None)
    if not isinstance(current, AdapterState):
        current = AdapterState()
        setattr(app.state, _STATE_ATTRIBUTE, current)
    return current
