import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from serving import SERVER_COMMANDS, Server, free_port, start_server

REPOSITORY = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def repository() -> Path:
    return REPOSITORY


@pytest.fixture(scope="session")
def uv() -> str:
    """The uv executable that runs this session (uv run exports it as UV)."""
    found = os.environ.get("UV") or shutil.which("uv")
    if found is None:
        pytest.fail("uv is needed to build and install the distributions")
    return found


@pytest.fixture(scope="module", params=sorted(SERVER_COMMANDS))
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Each adapter's test site on its real server, one after the other."""
    name: str = request.param
    port = free_port()
    server = start_server(
        name, SERVER_COMMANDS[name](port), tmp_path_factory.mktemp(name) / "server.log", port
    )
    yield server
    server.stop()
