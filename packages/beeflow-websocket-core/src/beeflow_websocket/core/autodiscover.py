"""Importing application plugin modules at startup, so that their classes register themselves.

Actions, events and recipients register when their module is imported. Adapters call
:func:`autodiscover` at startup with the application's packages; each package's conventional plugin
modules (:data:`CONVENTIONAL_MODULES`) are imported when they exist. A module that does not exist is
skipped; a module that exists but fails to import raises its original error, so that a broken plugin
fails startup instead of leaving its actions silently unregistered.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from collections.abc import Iterable
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from types import ModuleType

__all__ = [
    "CONVENTIONAL_MODULES",
    "autodiscover",
    "autodiscover_modules",
    "import_package_tree",
    "module_exists",
    "parent_packages",
]

CONVENTIONAL_MODULES: Final[tuple[str, ...]] = (
    "actions",
    "events",
    "recipients",
    "ws.actions",
    "ws.events",
    "ws.recipients",
)
"""Plugin modules looked for in every discovered package, relative to the package."""


def module_exists(dotted_name: str) -> bool:
    """Tell whether ``dotted_name`` can be imported, without importing it.

    Its parent packages are imported to look inside them, so an error in an existing parent's
    ``__init__`` propagates.
    """
    parent, _, _ = dotted_name.rpartition(".")
    if parent and not module_exists(parent):
        return False
    try:
        return importlib.util.find_spec(dotted_name) is not None
    except ModuleNotFoundError:
        # The parent is a plain module, not a package: nothing can live below it.
        return False


def autodiscover_modules(
    package: str,
    module_names: Iterable[str] = CONVENTIONAL_MODULES,
) -> list[ModuleType]:
    """Import ``<package>.<name>`` for each of ``module_names`` that exists.

    Returns:
        The imported modules, in the order of ``module_names``.

    Raises:
        Exception: Whatever an existing module raises while it is imported.
    """
    imported = []
    for name in module_names:
        dotted_name = f"{package}.{name}"
        if module_exists(dotted_name):
            imported.append(importlib.import_module(dotted_name))
    return imported


def import_package_tree(package: str) -> list[ModuleType]:
    """Import ``package`` and, when it is a package, every module and subpackage below it.

    Raises:
        ModuleNotFoundError: ``package`` does not exist; it was named on purpose, so that is an error.
        Exception: Whatever a module raises while it is imported.
    """
    root = importlib.import_module(package)
    imported = [root]
    for info in pkgutil.iter_modules(getattr(root, "__path__", ())):
        imported.extend(import_package_tree(f"{package}.{info.name}"))
    return imported


def parent_packages(module_name: str, *, is_package: bool = False) -> list[str]:
    """Return the package a module belongs to and that package's parents, innermost first.

    ``parent_packages("shop.api.main")`` is ``["shop.api", "shop"]``; for a package itself
    (``is_package=True``) the package heads the list. A top-level module belongs to no package.
    """
    parts = module_name.split(".")
    if not is_package:
        parts.pop()
    return [".".join(parts[:end]) for end in range(len(parts), 0, -1)]


def autodiscover(
    packages: Iterable[str],
    module_names: Iterable[str] = CONVENTIONAL_MODULES,
    whole_packages: Iterable[str] = (),
) -> list[ModuleType]:
    """Import the conventional modules of ``packages`` and everything in ``whole_packages``.

    Args:
        packages: Packages whose conventional plugin modules are imported when they exist.
        module_names: The plugin module names to look for, relative to each package.
        whole_packages: Packages imported completely, for plugins outside the conventional layout.

    Returns:
        Every module imported, each once.
    """
    names = tuple(module_names)
    imported: dict[str, ModuleType] = {}
    for package in packages:
        for module in autodiscover_modules(package, names):
            imported.setdefault(module.__name__, module)
    for package in whole_packages:
        for module in import_package_tree(package):
            imported.setdefault(module.__name__, module)
    return list(imported.values())
