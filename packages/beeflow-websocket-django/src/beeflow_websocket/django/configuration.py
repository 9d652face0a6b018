"""Django settings of Beeflow WebSocket, read and checked in one place.

Every option of :data:`beeflow_websocket.core.options.OPTIONS` that Django reads is the setting
``BEEFLOW_WEBSOCKET_<NAME>``: ``PROBLEM_TYPE_BASE_URL``, ``AUTODISCOVER``, ``AUTODISCOVER_MODULES``,
``AUTODISCOVER_PACKAGES``, ``MAX_MESSAGE_SIZE``, ``MAX_CONCURRENT_ACTIONS``, ``MAX_PENDING_MESSAGES``,
``MAX_OUTBOUND_MESSAGES`` and ``SLOW_CONSUMER_TIMEOUT`` (docs/en/django.md gives each one's meaning
and default). A value of the wrong type raises ``ImproperlyConfigured`` naming the setting.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from beeflow_websocket.core.contract import Contract
from beeflow_websocket.core.options import OPTIONS, checked_module_names, option, protocol_settings
from beeflow_websocket.core.settings import DispatcherSettings

__all__ = [
    "autodiscover_enabled",
    "autodiscover_modules",
    "autodiscover_packages",
    "contract",
    "dispatcher_settings",
    "options",
    "setting_name",
]


def options() -> dict[str, object]:
    """Every option Django reads, by option name: the setting's value, or the option's default."""
    return {
        entry.name: getattr(settings, entry.django_setting, entry.default)
        for entry in OPTIONS
        if entry.django
    }


def dispatcher_settings() -> DispatcherSettings:
    """Build the protocol settings from the ``BEEFLOW_WEBSOCKET_*`` settings."""
    values = options()
    for entry in OPTIONS:
        if entry.django and entry.protocol:
            try:
                protocol_settings({entry.name: values[entry.name]})
            except (TypeError, ValueError) as error:
                raise ImproperlyConfigured(f"{entry.django_setting}: {error}") from None
    return protocol_settings(values)


def contract() -> Contract:
    """Read ``BEEFLOW_WEBSOCKET_ASYNCAPI``: the contract ``beeflow_websocket.django.asyncapi`` serves.

    Unset, the defaults (the project includes the contract's URLs, so it means to serve it).
    """
    value = options()["asyncapi"]
    try:
        return Contract({} if value is None else value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as error:
        raise ImproperlyConfigured(f"{setting_name('asyncapi')}: {error}") from None


def setting_name(name: str) -> str:
    """The Django setting that holds the option ``name``."""
    return option(name).django_setting


def autodiscover_enabled() -> bool:
    """Read ``BEEFLOW_WEBSOCKET_AUTODISCOVER``."""
    value = options()["autodiscover"]
    if not isinstance(value, bool):
        raise ImproperlyConfigured(f"{setting_name('autodiscover')} must be True or False, got {value!r}")
    return value


def autodiscover_modules() -> tuple[str, ...]:
    """Read ``BEEFLOW_WEBSOCKET_AUTODISCOVER_MODULES``: the module names that replace the defaults."""
    return _module_names("autodiscover_modules")


def autodiscover_packages() -> tuple[str, ...]:
    """Read ``BEEFLOW_WEBSOCKET_AUTODISCOVER_PACKAGES``: packages to import whole."""
    return _module_names("autodiscover_packages")


def _module_names(name: str) -> tuple[str, ...]:
    try:
        return checked_module_names(setting_name(name), options()[name])
    except TypeError as error:
        raise ImproperlyConfigured(str(error)) from None
