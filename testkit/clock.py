"""A clock that moves only when a test moves it, for code that reads the time through a ``_CLOCK``."""

from types import ModuleType

import pytest


class Clock:
    """Reads ``now``, which starts at 1000 s; a test adds to it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def patch_clock(monkeypatch: pytest.MonkeyPatch, module: ModuleType) -> Clock:
    """Give ``module`` a fresh :class:`Clock` as its ``_CLOCK`` for the test; return it."""
    clock = Clock()
    monkeypatch.setattr(module, "_CLOCK", clock)
    return clock
