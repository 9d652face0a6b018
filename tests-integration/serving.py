"""Real servers for the integration tests: started as subprocesses on 127.0.0.1, each on a free port."""

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

SITES = Path(__file__).resolve().parent / "sites"
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    """A server started as a subprocess on 127.0.0.1; its output goes to a log file."""

    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def url(self, path: str = "/ws/") -> str:
        return f"ws://127.0.0.1:{self.port}{path}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(
    name: str, command: list[str], log: Path, port: int, env: dict[str, str] | None = None
) -> Server:
    """Start ``command`` with the test sites and examples importable; wait until it accepts connections."""
    path = os.pathsep.join([str(SITES), str(EXAMPLES)])
    environment = os.environ | {"PYTHONPATH": path, "PYTHONUNBUFFERED": "1"} | (env or {})
    with log.open("wb") as sink:
        process = subprocess.Popen(command, cwd=SITES, env=environment, stdout=sink, stderr=subprocess.STDOUT)
    server = Server(name, port, process, log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{name} exited with {process.returncode}:\n{server.output()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return server
        except OSError:
            time.sleep(0.05)
    server.stop()
    pytest.fail(f"{name} did not listen on port {port} within 30 s:\n{server.output()}")


def fastapi_command(port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "fastsite.main:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
    ]


def demo_command(port: int) -> list[str]:
    return [sys.executable, "-m", "uvicorn", "demo.app:app", "--host", "127.0.0.1", "--port", str(port)]


def flask_command(port: int) -> list[str]:
    return [
        sys.executable, "-m", "gunicorn", "flasksite.main:app",
        "--bind", f"127.0.0.1:{port}", "--worker-class", "gthread", "--threads", "32", "--workers", "1",
        "--no-control-socket",
    ]  # fmt: skip


SERVER_COMMANDS = {"fastapi": fastapi_command, "flask": flask_command}
