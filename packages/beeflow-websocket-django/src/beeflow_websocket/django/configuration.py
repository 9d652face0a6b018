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

A value of the wrong type raises ``ImproperlyConfigured`` naming the setting.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from beeflow_websocket.core.autodiscover import CONVENTIONAL_MODULES
from beeflow_websocket.core.settings import (
    DEFAULT_MAX_CONCURRENT_ACTIONS,
    DEFAULT_MAX_MESSAGE_SIZE,
    DEFAULT_MAX_PENDING_MESSAGES,
    DispatcherSettings,
)

__all__ = [
    "autodiscover_enabled",
    "autodiscover_modules",
    "autodiscover_packages",
    "dispatcher_settings",
]


def dispatcher_settings() -> DispatcherSettings:
    """Build the protocol settings from the ``BEEFLOW_WEBSOCKET_*`` settings."""
    base_url = getattr(settings, "BEEFLOW_WEBSOCKET_PROBLEM_TYPE_BASE_URL", None)
    if base_url is not None and (not isinstance(base_url, str) or not base_url.strip()):
        raise ImproperlyConfigured(
            f"BEEFLOW_WEBSOCKET_PROBLEM_TYPE_BASE_URL must be a non-blank string or None, got {base_url!r}"
        )
    return DispatcherSettings(
        problem_type_base_url=base_url,
        max_message_size=_positive("BEEFLOW_WEBSOCKET_MAX_MESSAGE_SIZE", DEFAULT_MAX_MESSAGE_SIZE),
        max_concurrent_actions=_positive(
            "BEEFLOW_WEBSOCKET_MAX_CONCURRENT_ACTIONS", DEFAULT_MAX_CONCURRENT_ACTIONS
        ),
        max_pending_messages=_positive(
            "BEEFLOW_WEBSOCKET_MAX_PENDING_MESSAGES", DEFAULT_MAX_PENDING_MESSAGES
        ),
    )


def _positive(name: str, default: int) -> int:
    value = getattr(settings, name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ImproperlyConfigured(f"{name} must be a positive integer, got {value!r}")
    return value


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
