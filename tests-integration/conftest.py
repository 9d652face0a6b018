import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from serving import SERVER_COMMANDS, Server, free_port, prepare_django_site, redis_command, start_server

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
    workdir = tmp_path_factory.mktemp(name)
    env = prepare_django_site(workdir / "db.sqlite3") if name == "django" else None
    server = start_server(name, SERVER_COMMANDS[name](port), workdir / "server.log", port, env)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A real Redis on a free loopback port, for delivery that crosses processes."""
    port = free_port()
    server = start_server("redis", redis_command(port), tmp_path_factory.mktemp("redis") / "server.log", port)
    yield server
    server.stop()
