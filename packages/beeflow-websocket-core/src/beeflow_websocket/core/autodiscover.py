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
from pathlib import Path
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from types import ModuleType

__all__ = [
    "CONVENTIONAL_MODULES",
    "autodiscover",
    "autodiscover_for_caller",
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


def autodiscover_for_caller(
    module_name: str,
    module_file: str | None,
    *,
    spec_name: str | None = None,
    module_names: Iterable[str] = CONVENTIONAL_MODULES,
    whole_packages: Iterable[str] = (),
) -> list[ModuleType]:
    """Autodiscover for the module that configured an adapter: its package and the parents.

    A module inside a package scans that package and its parents. A top-level module or a script
    (``uvicorn main:app``, ``python app.py``) has no package; its plugin modules are the ones beside
    it in its own directory, and a same-named module from anywhere else on ``sys.path`` is ignored.

    Args:
        module_name: The caller's ``__name__``.
        module_file: The caller's ``__file__``, to find the modules beside a top-level module.
        spec_name: The caller's ``__spec__.name``; it names the module when ``__name__`` is
            ``"__main__"`` under ``python -m``.
        module_names: The plugin module names to look for.
        whole_packages: Packages imported completely as well.
    """
    name = spec_name or module_name
    names = tuple(module_names)
    is_package = module_file is not None and Path(module_file).name == "__init__.py"
    packages = parent_packages(name, is_package=is_package)
    if packages or module_file is None:
        return autodiscover(packages, names, whole_packages)
    directory = Path(module_file).resolve().parent
    beside = [
        importlib.import_module(plugin)
        for plugin in names
        if _lives_in(plugin, directory) and module_exists(plugin)
    ]
    whole = [module for module in autodiscover([], (), whole_packages) if module not in beside]
    return beside + whole


def _lives_in(dotted_name: str, directory: Path) -> bool:
    top = dotted_name.partition(".")[0]
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return False
    if spec is None:
        return False
    locations = (
        [spec.origin] if spec.origin and spec.has_location else list(spec.submodule_search_locations or ())
    )
    return any(Path(location).resolve().is_relative_to(directory) for location in locations if location)
