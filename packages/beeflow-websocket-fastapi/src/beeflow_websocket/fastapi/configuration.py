"""``configure_beeflow_websocket`` for FastAPI: settings and live connections, kept per application."""

from __future__ import annotations

from collections.abc import Iterable

from starlette.applications import Starlette

from beeflow_websocket.core.autodiscover import CONVENTIONAL_MODULES
from beeflow_websocket.core.configuration import AdapterState, configure_adapter
from beeflow_websocket.core.settings import (
    DEFAULT_MAX_CONCURRENT_ACTIONS,
    DEFAULT_MAX_MESSAGE_SIZE,
    DEFAULT_MAX_OUTBOUND_MESSAGES,
    DEFAULT_MAX_PENDING_MESSAGES,
)

__all__ = ["AdapterState", "adapter_state", "configure_beeflow_websocket"]

_STATE_ATTRIBUTE = "beeflow_websocket"
STATE_CLASS = AdapterState


def configure_beeflow_websocket(
    app: Starlette,
    *,
    problem_type_base_url: str | None = None,
    autodiscover: bool = True,
    autodiscover_modules: Iterable[str] = CONVENTIONAL_MODULES,
    autodiscover_packages: Iterable[str] | None = None,
    max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
    max_concurrent_actions: int = DEFAULT_MAX_CONCURRENT_ACTIONS,
    max_pending_messages: int = DEFAULT_MAX_PENDING_MESSAGES,
    max_outbound_messages: int = DEFAULT_MAX_OUTBOUND_MESSAGES,
    redis_url: str | None = None,
    redis_channel_prefix: str = "beeflow-websocket",
) -> None:
    """Configure Beeflow WebSocket on a FastAPI (or Starlette) application.

    The settings live on this application only: two applications in one process do not see each
    other's. Autodiscovery imports the conventional plugin modules of the package that called this
    function and of its parent packages.

    Args:
        app: The FastAPI or Starlette application.
        problem_type_base_url: Base of the Problem Details ``type``; ``None`` gives ``about:blank``.
        autodiscover: Whether to import plugin modules now.
        autodiscover_modules: The conventional module names to look for.
        autodiscover_packages: Packages to import whole, besides the conventional modules.
        max_message_size: Largest inbound frame in bytes (default 1 MiB); larger ones are answered
            with ``message_too_large`` without being parsed.
        max_concurrent_actions: Actions of one connection that may run at once (default 1: frames
            are handled one after another, in order).
        max_pending_messages: Frames that may wait for an action slot (default 32) before the
            adapter stops reading from the client.
        max_outbound_messages: Frames that may wait to be written to a connection (default 256);
            a client that stops reading is closed with 1013 once they are all taken.
        redis_url: A Redis URL (``redis://host:6379/0``) to reach connections, users and groups in
            every process and instance; needs the ``redis`` extra. ``None`` (the default) reaches the
            connections of this process only.
        redis_channel_prefix: Prefix of the Redis channels; give each application on one Redis its own.

    Raises:
        ValueError: A limit is not a positive integer, or the base URL is blank.
        TypeError: A keyword has the wrong type, or ``app`` is not a Starlette application.
        Exception: Whatever an existing plugin module raises while it is imported.
    """
    state = configure_adapter(
        STATE_CLASS,
        caller_depth=1,
        problem_type_base_url=problem_type_base_url,
        autodiscover=autodiscover,
        autodiscover_modules=autodiscover_modules,
        autodiscover_packages=autodiscover_packages,
        max_message_size=max_message_size,
        max_concurrent_actions=max_concurrent_actions,
        max_pending_messages=max_pending_messages,
        max_outbound_messages=max_outbound_messages,
        redis_url=redis_url,
        redis_channel_prefix=redis_channel_prefix,
    )
    if not isinstance(app, Starlette):
        raise TypeError(f"expected a FastAPI or Starlette application, got {type(app).__name__}")
    setattr(app.state, _STATE_ATTRIBUTE, state)


def adapter_state(app: Starlette) -> AdapterState:
    """Return the application's adapter state, creating the defaults for an unconfigured one."""
    current = getattr(app.state, _STATE_ATTRIBUTE, None)
    if not isinstance(current, AdapterState):
        current = AdapterState()
        setattr(app.state, _STATE_ATTRIBUTE, current)
    return current
