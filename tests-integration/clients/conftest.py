import contextlib
import os
import signal
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from drivers import Driver, start_driver
from serving import SERVER_COMMANDS, Server, free_port, prepare_django_site, start_server

CLIENTS = ["python", "typescript"]


@pytest.fixture(params=CLIENTS)
async def driver(request: pytest.FixtureRequest) -> AsyncIterator[Driver]:
    """Each client in turn, behind the drivers' one interface."""
    started = await start_driver(request.param)
    try:
        yield started
    finally:
        await started.stop()


class RestartableServer:
    """An adapter's test site on a port of its own, which a test may stop, start again, or pause."""

    def __init__(self, name: str, workdir: Path) -> None:
        self.name = name
        self.port = free_port()
        self._workdir = workdir
        self._env = prepare_django_site(workdir / "db.sqlite3") if name == "django" else None
        self._starts = 0
        self.server: Server = self.start()

    def start(self) -> Server:
        self._starts += 1
        log = self._workdir / f"server-{self._starts}.log"
        self.server = start_server(
            self.name, SERVER_COMMANDS[self.name](self.port), log, self.port, self._env
        )
        return self.server

    def url(self) -> str:
        return self.server.url()

    def restart(self) -> None:
        self.stop()
        self.start()

    def _processes(self) -> list[int]:
        """The server's process and its descendants (gunicorn serves from a worker process)."""
        found, queue = [], [self.server.process.pid]
        while queue:
            pid = queue.pop()
            found.append(pid)
            children = Path(f"/proc/{pid}/task/{pid}/children")
            if children.exists():
                queue += [int(child) for child in children.read_text().split()]
        return found

    def _signal(self, pids: list[int], number: int) -> None:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, number)

    def pause(self) -> None:
        """Stop the processes without closing a socket: a server that no longer answers."""
        self._signal(self._processes(), signal.SIGSTOP)

    def resume(self) -> None:
        self._signal(self._processes(), signal.SIGCONT)

    def stop(self) -> None:
        """Stop the server: its workers at once, then the server itself, gracefully.

        A gunicorn worker would hold its WebSocket connections through the graceful timeout (30 s),
        and outlive a master killed before that; daphne and uvicorn close theirs with 1012.
        """
        master, *workers = self._processes()
        self._signal([master, *workers], signal.SIGCONT)
        self._signal(workers, signal.SIGKILL)
        self.server.stop()


@pytest.fixture(params=sorted(SERVER_COMMANDS))
def own_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RestartableServer]:
    """Each adapter's test site on a server of this test's own."""
    server = RestartableServer(request.param, tmp_path)
    try:
        yield server
    finally:
        server.stop()
