"""The 0.3.0 README's examples, pasted verbatim into a new project, serve on their real servers.

The published README is a contract: its minimal action in ``my_app/ws/actions.py`` (it replaces the
built-in ``health``) and its FastAPI and Flask set-ups. Only what the README leaves to the project is
filled in: the body of the FastAPI authentication dependency, and Flask's ``g.user``.
"""

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest
from websockets.asyncio.client import connect

from seed import FASTAPI_MAIN, FLASK_MAIN, MINIMAL_ACTION
from serving import Server, free_port, start_server

pytestmark = [pytest.mark.anyio, pytest.mark.integration]

# What the README leaves to the project: who the user is.
FASTAPI_AUTHENTICATION = ("    ...\n", "    return 7\n")
FLASK_AUTHENTICATION = """

from types import SimpleNamespace


@app.before_request
def authenticate() -> None:
    g.user = SimpleNamespace(id=7)
"""


def write_project(root: Path, main: str) -> None:
    for package in (root / "my_app", root / "my_app" / "ws"):
        package.mkdir(parents=True)
        (package / "__init__.py").write_text("")
    (root / "my_app" / "ws" / "actions.py").write_text(MINIMAL_ACTION)
    (root / "my_app" / "main.py").write_text(main)


def fastapi_project(root: Path, port: int) -> list[str]:
    write_project(root, FASTAPI_MAIN.replace(*FASTAPI_AUTHENTICATION))
    return [sys.executable, "-m", "uvicorn", "my_app.main:app", "--host", "127.0.0.1", "--port", str(port)]


def flask_project(root: Path, port: int) -> list[str]:
    write_project(root, FLASK_MAIN + FLASK_AUTHENTICATION)
    return [
        sys.executable, "-m", "gunicorn", "my_app.main:app", "--bind", f"127.0.0.1:{port}",
        "--worker-class", "gthread", "--threads", "4", "--no-control-socket",
    ]  # fmt: skip


PROJECTS = {"fastapi": fastapi_project, "flask": flask_project}


@pytest.fixture(params=sorted(PROJECTS))
def seed_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    port = free_port()
    command = PROJECTS[request.param](tmp_path / "project", port)
    env = {"PYTHONPATH": str(tmp_path / "project")}
    server = start_server(f"seed-{request.param}", command, tmp_path / "server.log", port, env)
    yield server
    server.stop()


async def test_the_seed_s_health_action_answers_and_problems_use_its_type_base_url(
    seed_server: Server,
) -> None:
    health, unknown = str(uuid4()), str(uuid4())
    async with connect(seed_server.url()) as websocket:
        await websocket.send(
            json.dumps({"msg_id": str(uuid4()), "req_id": health, "action": "health", "payload": {}})
        )
        answer = json.loads(await websocket.recv())
        await websocket.send(
            json.dumps({"msg_id": str(uuid4()), "req_id": unknown, "action": "nope", "payload": {}})
        )
        problem = json.loads(await websocket.recv())

    assert {key: answer[key] for key in ("req_id", "seq", "event", "recipient", "payload")} == {
        "req_id": health,
        "seq": 1,
        "event": "health",
        "recipient": "websocket",
        "payload": {"status": "ok"},
    }
    assert (problem["req_id"], problem["code"], problem["type"]) == (
        unknown,
        "unknown_websocket_action",
        "https://example.com/problems/websocket/unknown-action",
    )
    assert "DuplicateRegistrationError" not in seed_server.output()
