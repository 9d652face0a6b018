import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from beeflow_websocket.core.testing import isolated_registries

from serving import free_port, redis_command, start_server


@pytest.fixture(autouse=True)
def isolated() -> Iterator[None]:
    """Forget the plugin classes a test defines, so that tests cannot see each other's."""
    with isolated_registries():
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


@pytest.fixture
def redis_port(tmp_path: Path) -> Iterator[int]:
    """A real Redis server of this test's own, on a free port."""
    port = free_port()
    server = start_server("redis", redis_command(port), tmp_path / "redis.log", port)
    yield port
    server.stop()
