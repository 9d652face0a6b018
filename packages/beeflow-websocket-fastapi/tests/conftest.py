import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from beeflow_websocket.core.action_registry import ActionRegistryMeta
from beeflow_websocket.core.event_registry import EventRegistryMeta
from beeflow_websocket.core.recipient_registry import RecipientRegistryMeta

type Layout = Callable[[dict[str, str]], None]


@pytest.fixture(autouse=True)
def isolated_registries() -> Iterator[None]:
    with (
        ActionRegistryMeta.registry.isolated(),
        EventRegistryMeta.registry.isolated(),
        RecipientRegistryMeta.registry.isolated(),
    ):
        yield


@pytest.fixture
def layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Layout]:
    """Write an application package below a fresh sys.path entry; forget its modules afterwards."""
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
