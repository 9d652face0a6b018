"""What ``configure_beeflow_websocket`` does on every framework that configures in code.

FastAPI and Flask take the same keywords; this checks them, runs autodiscovery for the module that
called the adapter, and builds the state the adapter keeps on its application: the protocol
settings, the live connections of this process, and the Redis engine when one is configured.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Final, TypedDict, Unpack
from uuid import uuid4

from beeflow_websocket.core.autodiscover import autodiscover_for_caller
from beeflow_websocket.core.contract import AsyncAPISettings, Contract
from beeflow_websocket.core.delivery.local import LocalConnections
from beeflow_websocket.core.guardrails.rate_limits import RateLimit
from beeflow_websocket.core.history.memory import MemoryHistory
from beeflow_websocket.core.history.positions import StreamKind
from beeflow_websocket.core.lifecycle import ConnectionLifecycle
from beeflow_websocket.core.negotiation import negotiated_version
from beeflow_websocket.core.options import OPTIONS, checked_module_names, protocol_settings
from beeflow_websocket.core.origins import checked_origins, origin_allowed
from beeflow_websocket.core.settings import DEFAULT_SETTINGS, DispatcherSettings

if TYPE_CHECKING:
    from beeflow_websocket.core.action_registry import UserId
    from beeflow_websocket.core.delivery.redis import RedisDelivery
    from beeflow_websocket.core.guardrails.expiry import Expiry, Refresh
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
        max_outbound_messages: Frames that may wait to be written to a connection (default 256).
        slow_consumer_timeout: Seconds (default 2.0) a connection's outbound queue may make no
            progress while an event waits for room, before its client counts as not reading and is
            closed with 1013.
        idle_timeout: Seconds a connection may send nothing before it is closed with 4408 (default
            ``None``: never).
        action_timeout: Seconds an action may run unless its class sets ``timeout=``; past them it is
            stopped and answered 504 ``action_timeout`` (default ``None``: no limit).
        rate_limit: How many requests one connection may make, such as ``"10/s"`` or ``"100/min"``;
            beyond it a request is answered 429 ``rate_limited`` with ``retry_after`` (default
            ``None``: no limit).
        user_rate_limit: The same for all the connections of one user together, on every process
            when ``redis_url`` is set (default ``None``).
        rate_limit_budget: How many refused requests a connection may make before it is closed with
            4429 (default ``"60/min"``; ``None``: never).
        token_expiry_notice: Seconds before a connection's credentials expire (``expires_at`` of
            ``handle_beeflow_websocket``) at which a v1 client is told to refresh them (default 30.0).
        token_expiry_grace: Seconds after they expire at which an unrefreshed connection is closed
            with 4440 (default 10.0).
        history_size: Events kept per stream for clients that reconnect and resume (default 0:
            none); in Redis when ``redis_url`` is set, else in this process.
        history_ttl: Seconds an event is kept after its stream's last event (default 300.0).
        history_streams: The streams that keep a history: ``"user"``, ``"group"`` or both (default).
        retry_window: Seconds for which a v1 request's ``msg_id`` is remembered per user (in Redis
            when ``redis_url`` is set, else in this process), so that a client sending it again after
            a lost connection gets 409 ``duplicate_request`` rather than a second run. ``None`` (the
            default): not remembered.
        redis_url: A Redis URL (``redis://host:6379/0``) to reach connections, users and groups in every
            process and instance; needs the ``redis`` extra. ``None`` (the default) reaches the
            connections of this process only.
        redis_channel_prefix: Prefix of the Redis channels (default ``"beeflow-websocket"``); give each
            application on one Redis its own.
        allowed_origins: The browser origins that may open a connection (``"https://app.example.com"``,
            or ``"*"``). ``None`` (the default): a connection that offers an access token may come
            from any page, any other only from a page of the host it connects to (see
            :mod:`beeflow_websocket.core.origins`).
        asyncapi: Serve the contract, the AsyncAPI document and the page that renders it (see
            :class:`~beeflow_websocket.core.contract.AsyncAPISettings`; ``{}`` for the defaults);
            ``None`` (the default) serves nothing.
    """

    problem_type_base_url: str | None
    autodiscover: bool
    autodiscover_modules: Iterable[str]
    autodiscover_packages: Iterable[str] | None
    max_message_size: int
    max_concurrent_actions: int
    max_pending_messages: int
    max_outbound_messages: int
    slow_consumer_timeout: float
    idle_timeout: float | None
    action_timeout: float | None
    rate_limit: RateLimit | str | None
    user_rate_limit: RateLimit | str | None
    rate_limit_budget: RateLimit | str | None
    token_expiry_notice: float
    token_expiry_grace: float
    history_size: int
    history_ttl: float
    history_streams: Sequence[StreamKind]
    retry_window: float | None
    redis_url: str | None
    redis_channel_prefix: str
    allowed_origins: Iterable[str] | None
    asyncapi: AsyncAPISettings | None


_KEYWORDS: Final = frozenset(entry.name for entry in OPTIONS if entry.keyword)


@dataclass(slots=True)
class AdapterState:
    """What one application keeps: its protocol settings, its live connections, its delivery engine.

    Attributes:
        settings: The protocol settings of the application's connections.
        connections: The live connections of this process.
        redis: The Redis engine, when the application is configured with a Redis URL.
        autodiscovered: The plugin modules autodiscovery imported, by name.
        allowed_origins: The browser origins that may connect; ``None`` for the default rule.
        options: Every keyword's value, as configured or by default.
        contract: The contract to serve, when the ``asyncapi`` option is set.
    """

    settings: DispatcherSettings = DEFAULT_SETTINGS
    connections: LocalConnections = field(default_factory=LocalConnections)
    redis: RedisDelivery | None = None
    autodiscovered: tuple[str, ...] = ()
    allowed_origins: frozenset[str] | None = None
    options: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))
    contract: Contract | None = None

    def origin_allowed(self, origin: str | None, *, host: str | None, token_offered: bool) -> bool:
        """Whether a handshake from ``origin`` to ``host`` may open a connection of this application."""
        return origin_allowed(origin, host=host, allowed=self.allowed_origins, token_offered=token_offered)

    @property
    def delivery(self) -> Delivery:
        """The engine that reaches every connection: Redis when configured, else this process's."""
        return self.redis if self.redis is not None else self.connections

    def use_redis(self, url: str, *, channel_prefix: str) -> None:
        """Reach every process on the Redis at ``url``, through an engine over this state's connections.

        Raises:
            ModuleNotFoundError: redis-py is not installed; the message names the extra to add.
        """
        # Imported here: the Redis engine needs the optional redis extra.
        from beeflow_websocket.core.delivery.redis import RedisDelivery

        self.redis = RedisDelivery(
            url, self.connections, channel_prefix=channel_prefix, history=self.settings.history
        )

    def connection(
        self,
        transport: Transport,
        *,
        user_id: UserId,
        websocket_id: str | None = None,
        path: str,
        subprotocols: Sequence[str] = (),
        expires_at: Expiry = None,
        refresh: Refresh | None = None,
    ) -> ConnectionLifecycle:
        """Serve one connection of this application for the duration of an ``async with`` block.

        See :class:`~beeflow_websocket.core.lifecycle.ConnectionLifecycle`; ``websocket_id`` is a random
        UUID unless given. ``subprotocols`` are those the client offered: they decide the protocol
        version (:mod:`beeflow_websocket.core.negotiation`); ``expires_at`` and ``refresh`` hold the
        connection to credentials that expire (:mod:`beeflow_websocket.core.guardrails.expiry`).
        """
        return ConnectionLifecycle(
            transport,
            delivery=self.delivery,
            connections=self.connections,
            websocket_id=websocket_id or str(uuid4()),
            user_id=user_id,
            path=path,
            settings=self.settings,
            protocol_version=negotiated_version(subprotocols),
            expires_at=expires_at,
            refresh=refresh,
        )


def check_option_names(options: Mapping[str, object], function: str = "configure_beeflow_websocket") -> None:
    """Refuse a keyword that the table of options does not define, naming the public function.

    Raises:
        TypeError: As Python would for the public function: ``configure_beeflow_websocket() got an
            unexpected keyword argument 'x'``, not for the internal one it calls.
    """
    for name in options:
        if name not in _KEYWORDS:
            raise TypeError(f"{function}() got an unexpected keyword argument {name!r}")


def configure_adapter[S: AdapterState](
    state_class: type[S], *, caller_depth: int, **options: Unpack[AdapterOptions]
) -> S:
    """Check the adapter keywords, autodiscover for the caller, and build the application's state.

    Every keyword is an entry of :data:`~beeflow_websocket.core.options.OPTIONS`, which gives its
    default.

    Args:
        state_class: The adapter's state class (``AdapterState`` or a subclass of it).
        caller_depth: How many frames above this function's caller the application's code is
            (1 when an adapter's ``configure_beeflow_websocket`` calls this directly).
        **options: See :class:`AdapterOptions`.

    Returns:
        The state to keep on the application.

    Raises:
        TypeError: A keyword is unknown, or has the wrong type.
        ValueError: A limit is not a positive integer, or the base URL is blank.
    """
    check_option_names(options)
    values: dict[str, object] = {entry.name: entry.default for entry in OPTIONS if entry.keyword}
    values.update(options)
    autodiscover = values["autodiscover"]
    if not isinstance(autodiscover, bool):
        raise TypeError(f"autodiscover must be True or False, got {autodiscover!r}")
    module_names = checked_module_names("autodiscover_modules", values["autodiscover_modules"])
    packages = checked_module_names("autodiscover_packages", values["autodiscover_packages"] or ())
    settings = protocol_settings(values)
    origins = checked_origins(values["allowed_origins"])  # type: ignore[arg-type]
    asyncapi = values["asyncapi"]
    contract = None if asyncapi is None else Contract(asyncapi)  # type: ignore[arg-type]
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
    history = settings.history
    # Without Redis this process's memory keeps the streams; with it, Redis does, for every process.
    kept_here = None if history is None or values["redis_url"] else MemoryHistory(history)
    state = state_class(
        settings=settings,
        connections=LocalConnections(kept_here),
        autodiscovered=tuple(module.__name__ for module in modules),
        allowed_origins=origins,
        options=MappingProxyType(values),
        contract=contract,
    )
    redis_url = values["redis_url"]
    if redis_url is not None:
        state.use_redis(redis_url, channel_prefix=values["redis_channel_prefix"])  # type: ignore[arg-type]
    return state
