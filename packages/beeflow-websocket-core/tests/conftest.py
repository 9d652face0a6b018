import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from beeflow_websocket.core.action_registry import ActionRegistryMeta
from beeflow_websocket.core.event_registry import EventRegistryMeta
from beeflow_websocket.core.recipient_registry import RecipientRegistryMeta


@pytest.fixture(autouse=True)
def isolated_registries() -> Iterator[None]:
    """Forget the plugin classes a test defines, so that tests cannot see each other's."""
    with (
        ActionRegistryMeta.registry.isolated(),
        EventRegistryMeta.registry.isolated(),
        RecipientRegistryMeta.registry.isolated(),
    ):
        yield


@pytest.fixture
def layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[dict[str, str]], None]]:
    """Write files below a fresh sys.path entry; forget the modules imported from it afterwards."""
    monkeypatch.syspath_prepend(str(tmp_path))
    before = set(sys.modules)

    def write(files: dict[str, str]) -> None:
        for relative, text in files.items():
            path = tmp_path / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)

    yield write
    for name in set(sys.modules) - before:
        del sys.modules[name]
