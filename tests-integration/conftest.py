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


@pytest.fixture(scope="session")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Server]]:
    """Every adapter's test site on its real server, started once for the session."""
    servers: dict[str, Server] = {}
    try:
        for name, command in SERVER_COMMANDS.items():
            port = free_port()
            workdir = tmp_path_factory.mktemp(name)
            # Users above 1000 are each one test's own: a stream of theirs starts at offset 1.
            env = prepare_django_site(workdir / "db.sqlite3", users=1130) if name == "django" else None
            servers[name] = start_server(name, command(port), workdir / "server.log", port, env)
        yield servers
    finally:
        for server in servers.values():
            server.stop()


@pytest.fixture(params=sorted(SERVER_COMMANDS))
def served(request: pytest.FixtureRequest, sites: dict[str, Server]) -> Server:
    """Each adapter's test site in turn."""
    return sites[request.param]


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A real Redis on a free loopback port, for delivery that crosses processes."""
    port = free_port()
    server = start_server("redis", redis_command(port), tmp_path_factory.mktemp("redis") / "server.log", port)
    yield server
    server.stop()
