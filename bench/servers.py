"""Start a contender's server on 127.0.0.1, and read its CPU time and memory from /proc."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

from contenders import Contender

APPS = Path(__file__).resolve().parent / "apps"
TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ServerFailed(RuntimeError):
    """The server exited or never listened; the message carries its log."""


@dataclass
class RunningServer:
    contender: Contender
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def url(self, path: str | None = None) -> str:
        return f"ws://127.0.0.1:{self.port}{path or self.contender.path}"

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-2000:]

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

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start(contender: Contender, python: str, workdir: Path) -> RunningServer:
    """Start the contender's server on a free port; ``measure.ready`` waits until it answers."""
    port = free_port()
    log = workdir / f"{contender.label.replace('/', '-').replace(' ', '_')}.log"
    environment = (
        {key: value for key, value in os.environ.items() if key not in {"VIRTUAL_ENV", "PYTHONPATH"}}
        | {"PYTHONPATH": str(APPS), "PYTHONUNBUFFERED": "1"}
        | contender.extra_env
    )
    with log.open("wb") as sink:
        process = subprocess.Popen(
            contender.command(python, port), cwd=APPS, env=environment, stdout=sink, stderr=subprocess.STDOUT
        )
    return RunningServer(contender, port, process, log)
