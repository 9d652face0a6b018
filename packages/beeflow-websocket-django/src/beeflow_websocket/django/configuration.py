"""Django settings of Beeflow WebSocket, read and checked in one place.

| Setting | Default | Meaning |
| --- | --- | --- |
| ``BEEFLOW_WEBSOCKET_PROBLEM_TYPE_BASE_URL`` | ``None`` | Base of the Problem Details ``type``. |
| ``BEEFLOW_WEBSOCKET_AUTODISCOVER`` | ``True`` | Import plugin modules of installed apps at startup. |
| ``BEEFLOW_WEBSOCKET_AUTODISCOVER_MODULES`` | the six conventional modules | Module names looked for. |
| ``BEEFLOW_WEBSOCKET_AUTODISCOVER_PACKAGES`` | ``()`` | Packages imported whole. |
| ``BEEFLOW_WEBSOCKET_MAX_MESSAGE_SIZE`` | 1 MiB | Largest inbound frame, in bytes. |
| ``BEEFLOW_WEBSOCKET_MAX_CONCURRENT_ACTIONS`` | 1 | Actions of one connection that may run at once. |
| ``BEEFLOW_WEBSOCKET_MAX_PENDING_MESSAGES`` | 32 | Frames that may wait for an action slot. |
| ``BEEFLOW_WEBSOCKET_MAX_OUTBOUND_MESSAGES`` | 256 | Frames that may wait to be written to a connection. |
| ``BEEFLOW_WEBSOCKET_SLOW_CONSUMER_TIMEOUT`` | 2.0 | Seconds a full outbound queue may stay full. |

A value of the wrong type raises ``ImproperlyConfigured`` naming the setting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from beeflow_websocket.core.autodiscover import CONVENTIONAL_MODULES
from beeflow_websocket.core.settings import DispatcherSettings

__all__ = [
    "autodiscover_enabled",
    "autodiscover_modules",
    "autodiscover_packages",
    "dispatcher_settings",
    "setting_name",
]


def dispatcher_settings() -> DispatcherSettings:
    """Build the protocol settings from the ``BEEFLOW_WEBSOCKET_*`` settings.

    Every field of :class:`DispatcherSettings` is read from ``BEEFLOW_WEBSOCKET_<FIELD>``: the names
    derive from the one definition, so no setting can be documented and then not read.
    """
    values: dict[str, object] = {}
    for field in fields(DispatcherSettings):
        name = setting_name(field.name)
        if hasattr(settings, name):
            values[field.name] = getattr(settings, name)
            try:
                DispatcherSettings(**{field.name: values[field.name]})  # type: ignore[arg-type]
            except (TypeError, ValueError) as error:
                raise ImproperlyConfigured(f"{name}: {error}") from None
    return DispatcherSettings(**values)  # type: ignore[arg-type]


def setting_name(field: str) -> str:
    """The Django setting that holds a :class:`DispatcherSettings` field."""
    return f"BEEFLOW_WEBSOCKET_{field.upper()}"


def autodiscover_enabled() -> bool:
    """Read ``BEEFLOW_WEBSOCKET_AUTODISCOVER``."""
    value = getattr(settings, "BEEFLOW_WEBSOCKET_AUTODISCOVER", True)
    if not isinstance(value, bool):
        raise ImproperlyConfigured(f"BEEFLOW_WEBSOCKET_AUTODISCOVER must be True or False, got {value!r}")
    return value


def autodiscover_modules() -> tuple[str, ...]:
    """Read ``BEEFLOW_WEBSOCKET_AUTODISCOVER_MODULES``: the module names that replace the defaults."""
    return _module_names("BEEFLOW_WEBSOCKET_AUTODISCOVER_MODULES", CONVENTIONAL_MODULES)


def autodiscover_packages() -> tuple[str, ...]:
    """Read ``BEEFLOW_WEBSOCKET_AUTODISCOVER_PACKAGES``: packages to import whole."""
    return _module_names("BEEFLOW_WEBSOCKET_AUTODISCOVER_PACKAGES", ())


def _module_names(name: str, default: Sequence[str]) -> tuple[str, ...]:
    value = getattr(settings, name, default)
    # A lone string is a sequence too, and would be read as one-letter module names.
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise ImproperlyConfigured(f"{name} must be a list or tuple of module names, got {value!r}")
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise ImproperlyConfigured(f"{name} must hold non-blank module names, got {item!r}")
    return tuple(value)
