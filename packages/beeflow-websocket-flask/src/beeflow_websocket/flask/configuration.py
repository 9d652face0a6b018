"""``configure_beeflow_websocket`` for Flask: settings, live connections and the event loop, per app."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Final, Unpack

from flask import Flask, abort, current_app, request

from beeflow_websocket.core import configuration as core_configuration
from beeflow_websocket.core.access_token import (
    read_access_token,
    split_subprotocol_header,
)
from beeflow_websocket.core.configuration import AdapterOptions, configure_adapter
from beeflow_websocket.flask._bridge import EventLoopThread
from beeflow_websocket.flask._negotiation import NegotiatedSubprotocols
from beeflow_websocket.flask.contract import add_contract_routes

__all__ = ["AdapterState", "adapter_state", "configure_beeflow_websocket"]

_EXTENSION = "beeflow_websocket"

INFLATION_FACTOR: Final = 2
"""simple-websocket's own message limit, as a multiple of ``max_message_size``."""

logger: Final = logging.getLogger(__name__)


@dataclass(slots=True)
class AdapterState(core_configuration.AdapterState):
    """The core's per-application state, plus the event loop the application's actions run on."""

    bridge: EventLoopThread = field(default_factory=EventLoopThread)


STATE_CLASS = AdapterState


def configure_beeflow_websocket(app: Flask, **options: Unpack[AdapterOptions]) -> None:
    """Configure Beeflow WebSocket on a Flask application.

    The settings live in ``app.extensions``: two applications in one process do not see each
    other's. Flask-Sock's ``SOCK_SERVER_OPTIONS`` get the subprotocols ``beeflow.v1`` and
    ``access-token``, selected as on every adapter (see :mod:`beeflow_websocket.core.negotiation`;
    subprotocols of the application's own stay selectable when neither is offered), and, unless
    set there, a ``max_message_size`` of twice the adapter's, which bounds what a compressed message
    inflates to. With ``asyncapi`` set, the application serves the contract (the AsyncAPI
    document and the page that renders it) at its path. A hook refuses
    handshakes from origins the application does not allow (HTTP 403). Autodiscovery imports the
    conventional plugin modules of the package that called this function and of its parent packages.

    Args:
        app: The Flask application.
        **options: The keywords of the core's table of options
            (:data:`~beeflow_websocket.core.options.OPTIONS`), the same on every adapter.

    Raises:
        TypeError: ``app`` is not a Flask application.
        Exception: What :func:`~beeflow_websocket.core.configuration.configure_adapter` raises for a
            keyword, and what an existing plugin module raises while it is imported.
    """
    if not isinstance(app, Flask):
        raise TypeError(f"expected a Flask application, got {type(app).__name__}")
    state = configure_adapter(STATE_CLASS, caller_depth=1, **options)
    sock_options = app.config.setdefault("SOCK_SERVER_OPTIONS", {})
    subprotocols = sock_options.get("subprotocols") or []
    if not isinstance(subprotocols, NegotiatedSubprotocols):
        extra = [subprotocols] if isinstance(subprotocols, str) else list(subprotocols)
        sock_options["subprotocols"] = NegotiatedSubprotocols(extra)
    # simple-websocket inflates a compressed message whole, with no limit unless given one: bound it
    # at twice the adapter's, so a frame up to that gets the adapter's 413 and the connection goes
    # on, while a compression bomb is cut off (1009) before it grows a worker's memory.
    sock_options.setdefault("max_message_size", INFLATION_FACTOR * state.settings.max_message_size)
    app.extensions[_EXTENSION] = state
    app.before_request(_refuse_foreign_origins)
    if state.contract is not None:
        add_contract_routes(app, state.contract)


def _refuse_foreign_origins() -> None:
    """Refuse a WebSocket handshake whose ``Origin`` the application does not allow, with HTTP 403.

    A hook rather than a check in the route: Flask-Sock completes the handshake before the route runs.
    """
    if request.headers.get("Upgrade", "").lower() != "websocket":
        return
    origin = request.headers.get("Origin")
    offered = split_subprotocol_header(request.headers.get("Sec-WebSocket-Protocol"))
    allowed = adapter_state(current_app).origin_allowed(
        origin, host=request.headers.get("Host"), token_offered=read_access_token(offered) is not None
    )
    if not allowed:
        logger.warning("refused a connection from origin %r", origin)
        abort(403)


def adapter_state(app: Flask) -> AdapterState:
    """Return the application's adapter state, creating the defaults for an unconfigured one."""
    current = app.extensions.get(_EXTENSION)
    if not isinstance(current, AdapterState):
        current = app.extensions[_EXTENSION] = AdapterState()
    return current
