"""Who is measured: each contender is one app on one real server, in a process of its own.

A contender outside the workspace (a peer, or an earlier Beeflow release) names the requirements of
its own virtual environment; the rest run on the workspace's interpreter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

DJANGO, FASTAPI, FLASK, MACHINE = (
    "Django / daphne",
    "FastAPI / uvicorn",
    "Flask / gunicorn gthread",
    "no framework",
)

#: The published release the issue measures against; only the package index can supply it.
BASELINE = "beeflow-websocket[django,fastapi,flask]==0.3.0"

BEEFLOW, ECHO, HANDWRITTEN, BASELINE_NAME = "beeflow", "raw echo", "hand-written JSON", "beeflow 0.3.0"
BEEFLOW_V1 = "beeflow, protocol v1"


def daphne(app: str) -> Callable[[str, int], list[str]]:
    return lambda python, port: [python, "-m", "daphne", "-v", "0", "-b", "127.0.0.1", "-p", str(port), app]


def uvicorn(app: str) -> Callable[[str, int], list[str]]:
    return lambda python, port: [
        python, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port),
        "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip


def gunicorn(app: str) -> Callable[[str, int], list[str]]:
    """One gthread worker with a thread for each of the memory run's 1,000 connections and some spare.

    Flask-Sock keeps a worker thread for as long as its connection lives, so the thread count is the
    connection limit on this server, for every Flask contender alike.
    """
    return lambda python, port: [
        python, "-m", "gunicorn", app, "--bind", f"127.0.0.1:{port}", "--worker-class", "gthread",
        "--threads", "1100", "--worker-connections", "2200", "--workers", "1", "--log-level", "warning",
        "--no-control-socket",
    ]  # fmt: skip


def websockets_server() -> Callable[[str, int], list[str]]:
    return lambda python, port: [python, "-m", "peers.websockets_echo", str(port)]


@dataclass(frozen=True)
class Contender:
    """One app on one server.

    Attributes:
        server: The framework and server, the rows a report groups by.
        name: Who runs on it.
        command: The server's command line, given an interpreter and a port.
        path: The WebSocket route.
        wire: The client protocol (a key of ``clients.WIRES``).
        requirements: For a contender outside the workspace, what its own environment installs.
        fanout: The route that answers the fan-out benchmark, if the contender takes part in it.
    """

    server: str
    name: str
    command: Callable[[str, int], list[str]]
    path: str
    wire: str = "beeflow"
    requirements: tuple[str, ...] | None = None
    fanout: str | None = None
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.server}: {self.name}"


def contenders(baseline: str = BASELINE) -> list[Contender]:
    django_env = {"DJANGO_SETTINGS_MODULE": "benchdjango.settings"}
    chanx = ("chanx[channels,fast_channels]==2.13.0", "daphne", "uvicorn[standard]")
    return [
        Contender(DJANGO, BEEFLOW, daphne("benchdjango.asgi:application"), "/ws/", fanout="/ws/", extra_env=django_env),
        Contender(DJANGO, BEEFLOW_V1, daphne("benchdjango.asgi:application"), "/ws/", wire="beeflow-v1", extra_env=django_env),
        Contender(DJANGO, ECHO, daphne("benchdjango.asgi:application"), "/echo/", extra_env=django_env),
        Contender(DJANGO, HANDWRITTEN, daphne("benchdjango.asgi:application"), "/json/", fanout="/fanout/",
                  extra_env=django_env),
        Contender(DJANGO, BASELINE_NAME, daphne("benchdjango.asgi:application"), "/ws/", requirements=(baseline, "daphne"),
                  extra_env=django_env),
        Contender(DJANGO, "chanx", daphne("peers.chanx_django:application"), "/chanx/", "chanx", chanx),
        Contender(DJANGO, "djangochannelsrestframework", daphne("peers.dcrf_django:application"), "/dcrf/", "dcrf",
                  ("djangochannelsrestframework==1.3.0", "daphne")),
        Contender(FASTAPI, BEEFLOW, uvicorn("benchfastapi.main:app"), "/ws/", fanout="/ws/"),
        Contender(FASTAPI, BEEFLOW_V1, uvicorn("benchfastapi.main:app"), "/ws/", wire="beeflow-v1"),
        Contender(FASTAPI, ECHO, uvicorn("benchfastapi.main:app"), "/echo/"),
        Contender(FASTAPI, HANDWRITTEN, uvicorn("benchfastapi.main:app"), "/json/", fanout="/fanout/"),
        Contender(FASTAPI, BASELINE_NAME, uvicorn("benchfastapi.main:app"), "/ws/",
                  requirements=(baseline, "uvicorn[standard]")),
        Contender(FASTAPI, "chanx", uvicorn("peers.chanx_fastapi:app"), "/chanx/", "chanx", chanx),
        Contender(FASTAPI, "python-socketio", uvicorn("peers.socketio_asgi:app"), "/socket.io/", "socket.io",
                  ("python-socketio==5.18.1", "uvicorn[standard]")),
        Contender(FLASK, BEEFLOW, gunicorn("benchflask.main:app"), "/ws/", fanout="/ws/"),
        Contender(FLASK, BEEFLOW_V1, gunicorn("benchflask.main:app"), "/ws/", wire="beeflow-v1"),
        Contender(FLASK, ECHO, gunicorn("benchflask.main:app"), "/echo/"),
        Contender(FLASK, HANDWRITTEN, gunicorn("benchflask.main:app"), "/json/", fanout="/fanout/"),
        Contender(FLASK, BASELINE_NAME, gunicorn("benchflask.main:app"), "/ws/", requirements=(baseline, "gunicorn")),
        Contender(MACHINE, "websockets echo", websockets_server(), "/"),
    ]  # fmt: skip
