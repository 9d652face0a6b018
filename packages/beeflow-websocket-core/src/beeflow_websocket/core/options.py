"""The one table of settings, from which every adapter's settings derive.

Each :class:`Option` is a keyword of ``configure_beeflow_websocket`` on FastAPI and Flask, a Django
setting named ``BEEFLOW_WEBSOCKET_<NAME>``, or both, with one default. The adapters read their
settings by walking :data:`OPTIONS`, the tables in ``docs/`` are checked against it, and each
adapter's tests walk it too, so a setting cannot be documented and then not read (as
``BEEFLOW_WEBSOCKET_MAX_OUTBOUND_MESSAGES`` once was on Django), nor read on one adapter only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Final

from beeflow_websocket.core.autodiscover import CONVENTIONAL_MODULES
from beeflow_websocket.core.guardrails.rate_limits import RateLimit
from beeflow_websocket.core.history.positions import DEFAULT_HISTORY_STREAMS, DEFAULT_HISTORY_TTL
from beeflow_websocket.core.settings import (
    DEFAULT_MAX_CONCURRENT_ACTIONS,
    DEFAULT_MAX_MESSAGE_SIZE,
    DEFAULT_MAX_OUTBOUND_MESSAGES,
    DEFAULT_MAX_PENDING_MESSAGES,
    DEFAULT_RATE_LIMIT_BUDGET,
    DEFAULT_SLOW_CONSUMER_TIMEOUT,
    DEFAULT_TOKEN_EXPIRY_GRACE,
    DEFAULT_TOKEN_EXPIRY_NOTICE,
    DispatcherSettings,
)

__all__ = ["OPTIONS", "Option", "checked_module_names", "option", "protocol_settings"]

_PROTOCOL_FIELDS: Final = frozenset(field.name for field in fields(DispatcherSettings))


@dataclass(frozen=True, slots=True)
class Option:
    """One setting.

    Attributes:
        name: The keyword on FastAPI and Flask; upper-cased after ``BEEFLOW_WEBSOCKET_``, the Django
            setting.
        default: The value when it is not given.
        documented_default: The default as the docs tables show it.
        example: A valid value other than the default (what each adapter's tests configure).
        keyword: Whether FastAPI and Flask take it as a keyword of ``configure_beeflow_websocket``.
        django: Whether Django reads it from its settings (origins are the ASGI application's
            business there: Channels' ``AllowedHostsOriginValidator``).
    """

    name: str
    default: object
    documented_default: str
    example: object
    keyword: bool = True
    django: bool = True

    @property
    def django_setting(self) -> str:
        """The name of the Django setting."""
        return f"BEEFLOW_WEBSOCKET_{self.name.upper()}"

    @property
    def protocol(self) -> bool:
        """Whether it is a field of :class:`DispatcherSettings`, handed to every connection."""
        return self.name in _PROTOCOL_FIELDS


OPTIONS: Final[tuple[Option, ...]] = (
    Option("problem_type_base_url", None, "`None`", "https://example.com/problems"),
    Option("autodiscover", True, "`True`", False),
    Option("autodiscover_modules", CONVENTIONAL_MODULES, "the six conventional modules", ("actions",)),
    Option("autodiscover_packages", (), "`()`", ("beeflow_websocket.core.actions",)),
    Option("max_message_size", DEFAULT_MAX_MESSAGE_SIZE, "`1048576` (1 MiB)", 4096),
    Option("max_concurrent_actions", DEFAULT_MAX_CONCURRENT_ACTIONS, "`1`", 4),
    Option("max_pending_messages", DEFAULT_MAX_PENDING_MESSAGES, "`32`", 8),
    Option("max_outbound_messages", DEFAULT_MAX_OUTBOUND_MESSAGES, "`256`", 8),
    Option("slow_consumer_timeout", DEFAULT_SLOW_CONSUMER_TIMEOUT, "`2.0`", 0.5),
    Option("idle_timeout", None, "`None`", 30.0),
    Option("action_timeout", None, "`None`", 10.0),
    Option("rate_limit", None, "`None`", RateLimit(10, 1.0)),
    Option("user_rate_limit", None, "`None`", RateLimit(100, 60.0)),
    Option("rate_limit_budget", DEFAULT_RATE_LIMIT_BUDGET, '`"60/min"`', RateLimit(10, 60.0)),
    Option("token_expiry_notice", DEFAULT_TOKEN_EXPIRY_NOTICE, "`30.0`", 60.0),
    Option("token_expiry_grace", DEFAULT_TOKEN_EXPIRY_GRACE, "`10.0`", 5.0),
    Option("history_size", 0, "`0`", 50),
    Option("history_ttl", DEFAULT_HISTORY_TTL, "`300.0`", 60.0),
    Option("history_streams", DEFAULT_HISTORY_STREAMS, '`("user", "group")`', ("user",)),
    Option("retry_window", None, "`None`", 30.0),
    Option("redis_url", None, "`None`", "redis://127.0.0.1:6379/15"),
    Option("redis_channel_prefix", "beeflow-websocket", '`"beeflow-websocket"`', "my-app"),
    Option("allowed_origins", None, "`None`", ("https://app.example.com",), django=False),
    Option("asyncapi", None, "`None`", {"path": "/contract", "title": "Shop"}),
)
"""Every setting, in the order the docs list them."""


def option(name: str) -> Option:
    """The option called ``name``.

    Raises:
        KeyError: There is none.
    """
    for candidate in OPTIONS:
        if candidate.name == name:
            return candidate
    raise KeyError(name)


def protocol_settings(values: Mapping[str, object]) -> DispatcherSettings:
    """The protocol settings among ``values`` (by option name), defaults for the ones not there.

    Raises:
        ValueError: A limit is not positive, or the base URL is blank.
        TypeError: A value has the wrong type.
    """
    given = {name: value for name, value in values.items() if name in _PROTOCOL_FIELDS}
    return DispatcherSettings(**given)  # type: ignore[arg-type]


def checked_module_names(label: str, value: object) -> tuple[str, ...]:
    """``value`` as module names: a list or tuple of non-blank strings, imported in that order.

    Raises:
        TypeError: It is not; the message starts with ``label`` (the keyword or setting).
    """
    # A lone string is iterable too, and would be read as one-letter module names; a set has no
    # order, and modules are imported in order.
    if not isinstance(value, list | tuple):
        raise TypeError(f"{label} must be a list or tuple of module names, got {value!r}")
    names = tuple(value)
    for name in names:
        if not isinstance(name, str) or not name.strip():
            raise TypeError(f"{label} must hold non-blank module names, got {name!r}")
    return names
