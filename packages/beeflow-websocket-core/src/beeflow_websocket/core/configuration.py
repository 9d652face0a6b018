"""What ``configure_beeflow_websocket`` does on every framework that configures in code.

FastAPI and Flask take the same keywords; this checks them, runs autodiscovery for the module that
called the adapter, and returns the settings the adapter keeps on its application.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING

from beeflow_websocket.core.autodiscover import CONVENTIONAL_MODULES, autodiscover_for_caller
from beeflow_websocket.core.settings import (
    DEFAULT_MAX_CONCURRENT_ACTIONS,
    DEFAULT_MAX_MESSAGE_SIZE,
    DEFAULT_MAX_OUTBOUND_MESSAGES,
    DEFAULT_MAX_PENDING_MESSAGES,
    DispatcherSettings,
)

if TYPE_CHECKING:
    from types import ModuleType

__all__ = ["configure_adapter"]


def configure_adapter(
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
) -> tuple[DispatcherSettings, list[ModuleType]]:
    """Check the adapter keywords, autodiscover for the caller, and build the settings.

    Args:
        caller_depth: How many frames above this function's caller the application's code is
            (1 when an adapter's ``configure_beeflow_websocket`` calls this directly).
        problem_type_base_url: Base of the Problem Details ``type``; ``None`` gives ``about:blank``.
        autodiscover: Whether to import plugin modules now.
        autodiscover_modules: The conventional module names to look for.
        autodiscover_packages: Packages to import whole, besides the conventional modules.
        max_message_size: Largest inbound frame in bytes; larger ones get ``message_too_large``.
        max_concurrent_actions: Actions of one connection that may run at once.
        max_pending_messages: Frames that may wait for an action slot before reading stops.
        max_outbound_messages: Frames that may wait to be written before the client counts as not reading.

    Returns:
        The settings, and the modules autodiscovery imported.

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
    if not autodiscover:
        return settings, []
    caller = sys._getframe(caller_depth + 1).f_globals
    modules = autodiscover_for_caller(
        str(caller.get("__name__", "__main__")),
        caller.get("__file__"),
        spec_name=getattr(caller.get("__spec__"), "name", None),
        module_names=module_names,
        whole_packages=packages,
    )
    return settings, modules


def _names(keyword: str, value: object) -> tuple[str, ...]:
    # A lone string is iterable too, and would be read as one-letter module names.
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise TypeError(f"{keyword} must be a list or tuple of module names, got {value!r}")
    names = tuple(value)
    for name in names:
        if not isinstance(name, str) or not name.strip():
            raise TypeError(f"{keyword} must hold non-blank module names, got {name!r}")
    return names
