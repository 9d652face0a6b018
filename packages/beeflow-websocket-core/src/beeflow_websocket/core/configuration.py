"""What ``configure_beeflow_websocket`` does on every framework that configures in code.

FastAPI and Flask take the same keywords; this checks them, runs autodiscovery for the module that
called the adapter, and builds the state the adapter keeps on its application: the protocol
settings, the live connections of this process, and the Redis engine when one is configured.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypedDict
from uuid import uuid4

from beeflow_websocket.core.autodiscover import CONVENTIONAL_MODULES, autodiscover_for_caller
from beeflow_websocket.core.delivery.local import LocalConnections
from beeflow_websocket.core.lifecycle import ConnectionLifecycle
from beeflow_websocket.core.origins import checked_origins, origin_allowed
from beeflow_websocket.core.settings import (
    DEFAULT_MAX_CONCURRENT_ACTIONS,
    DEFAULT_MAX_MESSAGE_SIZE,
    DEFAULT_MAX_OUTBOUND_MESSAGES,
    DEFAULT_MAX_PENDING_MESSAGES,
    DEFAULT_SETTINGS,
    DispatcherSettings,
)

if TYPE_CHECKING:
    from beeflow_websocket.core.action_registry import UserId
    from beeflow_websocket.core.delivery.redis import RedisDelivery
    from beeflow_websocket.core.transport import Delivery, Transport

__all__ = ["AdapterOptions", "AdapterState", "check_option_names", "configure_adapter"]


class AdapterOptions(TypedDict, total=False):
    """The keywords of ``configure_beeflow_websocket`` on FastAPI and Flask, all optional.

    Attributes:
        problem_type_base_url: Base of the Problem Details ``type``; ``None`` (the default) gives
            ``about:blank``.
        autodiscover: Whether to import plugin modules now (default ``True``).
        autodiscover_modules: The conventional module names to look for (default: the six).
        autodiscover_packages: Packages imported whole, besides the conventional modules.
        max_message_size: Largest inbound frame in bytes (default 1 MiB); larger ones are answered
            with ``message_too_large`` without being parsed.
        max_concurrent_actions: Actions of one connection that may run at once (default 1: frames
            are handled one after another, in order).
        max_pending_messages: Frames that may wait for an action slot (default 32) before the adapter
            stops reading from the client.
        max_outbound_messages: Frames that may wait to be written to a connection (default 256); a
            client that stops reading is closed with 1013 once they are all taken.
        redis_url: A Redis URL (``redis://host:6379/0``) to reach connections, users and groups in every
            process and instance; needs the ``redis`` extra. ``None`` (the default) reaches the
            connections of this process only.
        redis_channel_prefix: Prefix of the Redis channels (default ``"beeflow-websocket"``); give each
            application on one Redis its own.
        allowed_origins: The browser origins that may open a connection (``"https://app.example.com"``,
            or ``"*"``). ``None`` (the default): a connection that offers an access token may come
            from any page, any other only from a page of the host it connects to (see
            :mod:`beeflow_websocket.core.origins`).
    """

    problem_type_base_url: str | None
    autodiscover: bool
    autodiscover_modules: Iterable[str]
    autodiscover_packages: Iterable[str] | None
    max_message_size: int
    max_concurrent_actions: int
    max_pending_messages: int
    max_outbound_messages: int
    redis_url: str | None
    redis_channel_prefix: str
    allowed_origins: Iterable[str] | None


@dataclass(slots=True)
class AdapterState:
    """What one application keeps: its protocol settings, its live connections, its delivery engine.

    Attributes:
        settings: The protocol settings of the application's connections.
        connections: The live connections of this process.
        redis: The Redis engine, when the application is configured with a Redis URL.
        autodiscovered: The plugin modules autodiscovery imported, by name.
    """

    settings: DispatcherSettings = DEFAULT_SETTINGS
    connections: LocalConnections = field(default_factory=LocalConnections)
    redis: RedisDelivery | None = None
    autodiscovered: tuple[str, ...] = ()
    allowed_origins: frozenset[str] | None = None

    def origin_allowed(self, origin: str | None, *, host: str | None, token_offered: bool) -> bool:
        """Whether a handshake from ``origin`` to ``host`` may open a connection of this application."""
        return origin_allowed(origin, host=host, allowed=self.allowed_origins, token_offered=token_offered)

    @property
    def delivery(self) -> Delivery:
        """The engine that reaches every connection: Redis when configured, else this process's."""
        return self.redis if self.redis is not None else self.connections

    def connection(
        self, transport: Transport, *, user_id: UserId, websocket_id: str | None = None, path: str
    ) -> ConnectionLifecycle:
        """Serve one connection of this application for the duration of an ``async with`` block.

        See :class:`~beeflow_websocket.core.lifecycle.ConnectionLifecycle`; ``websocket_id`` is a random
        UUID unless given.
        """
        return ConnectionLifecycle(
            transport,
            delivery=self.delivery,
            connections=self.connections,
            websocket_id=websocket_id or str(uuid4()),
            user_id=user_id,
            path=path,
            settings=self.settings,
        )


def check_option_names(options: Mapping[str, object], function: str = "configure_beeflow_websocket") -> None:
    """Refuse a keyword that :class:`AdapterOptions` does not define, naming the public function.

    Raises:
        TypeError: As Python would for the public function: ``configure_beeflow_websocket() got an
            unexpected keyword argument 'x'``, not for the internal one it calls.
    """
    for name in options:
        if name not in AdapterOptions.__annotations__:
            raise TypeError(f"{function}() got an unexpected keyword argument {name!r}")


def configure_adapter[S: AdapterState](
    state_class: type[S],
    *,
    caller_depth: int,
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
    allowed_origins: Iterable[str] | None = None,
) -> S:
    """Check the adapter keywords, autodiscover for the caller, and build the application's state.

    Args:
        state_class: The adapter's state class (``AdapterState`` or a subclass of it).
        caller_depth: How many frames above this function's caller the application's code is
            (1 when an adapter's ``configure_beeflow_websocket`` calls this directly).
        problem_type_base_url: See :class:`AdapterOptions`, as are the other keywords.
        autodiscover: Whether to import plugin modules now.
        autodiscover_modules: The conventional module names to look for.
        autodiscover_packages: Packages to import whole.
        max_message_size: Largest inbound frame in bytes.
        max_concurrent_actions: Actions of one connection that may run at once.
        max_pending_messages: Frames that may wait for an action slot.
        max_outbound_messages: Frames that may wait to be written to a connection.
        redis_url: A Redis URL to reach connections in every process.
        redis_channel_prefix: Prefix of the Redis channels.
        allowed_origins: Browser origins that may connect; ``None`` for the default rule.

    Returns:
        The state to keep on the application.

    Raises:
        TypeError: A keyword has the wrong type.
        ValueError: A limit is not a positive integer, or the base URL is blank.
    """
    if not isinstance(autodiscover, bool):
        raise TypeError(f"autodiscover must be True or False, got {autodiscover!r}")
    module_names = _names("autodiscover_modules", autodiscover_modules)
    packages = _names("autodiscover_packages", autodiscover_packages or ())
    settings = DispatcherSettings(
        problem_type_base_url=problem_type_base_url,
        max_message_size=max_message_size,
        max_concurrent_actions=max_concurrent_actions,
        max_pending_messages=max_pending_messages,
        max_outbound_messages=max_outbound_messages,
    )
    origins = checked_origins(allowed_origins)
    modules = []
    if autodiscover:
        caller = sys._getframe(caller_depth + 1).f_globals
        modules = autodiscover_for_caller(
            str(caller.get("__name__", "__main__")),
            caller.get("__file__"),
            spec_name=getattr(caller.get("__spec__"), "name", None),
            module_names=module_names,
            whole_packages=packages,
        )
    state = state_class(
        settings=settings,
        autodiscovered=tuple(module.__name__ for module in modules),
        allowed_origins=origins,
    )
    if redis_url is not None:
        # Imported here: the Redis engine needs the optional redis extra.
        from beeflow_websocket.core.delivery.redis import RedisDelivery

        state.redis = RedisDelivery(redis_url, state.connections, channel_prefix=redis_channel_prefix)
    return state


def _names(keyword: str, value: object) -> tuple[str, ...]:
    # A lone string is iterable too, and would be read as one-letter module names.
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise TypeError(f"{keyword} must be a list or tuple of module names, got {value!r}")
    names = tuple(value)
    for name in names:
        if not isinstance(name, str) or not name.strip():
            raise TypeError(f"{keyword} must hold non-blank module names, got {name!r}")
    return names
