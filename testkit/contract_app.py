"""A test application for the contract document: typed, untyped, streaming and problem-raising actions.

Its classes live in ``contract_app_plugins``, at module level as an application's do (so that
``execute``'s annotations resolve); ``define()`` registers them, inside ``isolated_registries()``.
"""

from __future__ import annotations

import importlib
import sys

PLUGINS = "contract_app_plugins"


def define() -> None:
    """Register the test application's actions, events and problems (again, after an isolation)."""
    module = sys.modules.get(PLUGINS)
    if module is None:
        importlib.import_module(PLUGINS)
    else:
        importlib.reload(module)
