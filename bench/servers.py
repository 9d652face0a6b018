"""Start a contender's server on 127.0.0.1, and read its CPU time and memory from /proc."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from contenders import Contender
from serving import Server, free_port

APPS = Path(__file__).resolve().parent / "apps"


class ServerFailed(RuntimeError):
    """The server exited or never listened; the message carries its log."""


@dataclass
class RunningServer(Server):
    """The test suite's server, knowing which contender it serves and reading its own resources."""

    contender: Contender

    def url(self, path: str | None = None) -> str:
        return super().url(path or self.contender.path)

    def tail(self) -> str:
        return self.output()[-2000:]


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
    return RunningServer(contender.label, port, process, log, contender)
