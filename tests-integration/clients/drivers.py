"""The two clients behind one small interface, so that each conformance case is written once.

Each driver answers the commands of DRIVER.md (in this folder) with plain dictionaries: the Python
client in this process, the TypeScript client in a Node process over JSON lines. Durations are in
seconds on this side; the TypeScript driver converts.
"""

import asyncio
import contextlib
import itertools
import json
import os
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

from beeflow_websocket.client import (
    Backoff,
    Client,
    ClientClosed,
    ConnectionLost,
    Heartbeat,
    LostStream,
    ProblemError,
    QueueFull,
    ReceivedEvent,
    RequestTimeout,
    Unauthorized,
)

from serving import Server
from wsclient import ORIGIN

REPOSITORY = Path(__file__).resolve().parents[2]
TYPESCRIPT = REPOSITORY / "clients" / "typescript"
NODE_DRIVER = TYPESCRIPT / "conformance" / "driver.mjs"

type Reply = dict[str, Any]


ADAPTERS = ("django", "fastapi", "flask")

NETWORK_LOSS = {
    "backoff": {"initial": 0.05, "max": 0.2},
    "connect_timeout": 3.0,
    "heartbeat": None,
    "origin": ORIGIN,
}
"""``connect`` options of the tests that cut the network: quick reconnects, no heartbeat."""


def user_of(base: int, driver: "Driver", served: Server) -> int:
    """A user id of ``base``'s block that no other client or adapter uses (1 + 10 per adapter)."""
    return base + 10 * ADAPTERS.index(served.name) + (driver.name == "typescript")


class Driver(Protocol):
    """One client under test."""

    name: str

    async def call(self, op: str, **arguments: Any) -> Reply: ...

    async def stop(self) -> None: ...


def _event(event: ReceivedEvent) -> dict[str, Any]:
    return {
        "event": event.event,
        "payload": event.frame.get("payload"),
        "seq": event.seq,
        "req_id": event.req_id,
        "stream": event.frame.get("stream"),
    }


def _failure(error: BaseException) -> Reply:
    if isinstance(error, ProblemError):
        keys = ("code", "status", "title", "detail", "errors", "outcome")
        return {"ok": False, "problem": {key: error.problem.get(key) for key in keys}}
    names = {
        RequestTimeout: "timeout",
        ConnectionLost: "connection_lost",
        QueueFull: "queue_full",
        ClientClosed: "closed",
        Unauthorized: "unauthorized",
        asyncio.CancelledError: "aborted",
    }
    for kind, name in names.items():
        if isinstance(error, kind):
            return {"ok": False, "error": name}
    return {"ok": False, "error": f"other:{error!r}"}


def _rejoining(requests: list[dict[str, Any]]) -> Callable[[Client], Awaitable[None]]:
    """A ``before_resume`` that makes ``requests`` (``{"action", "payload"}``) in order."""

    async def rejoin(client: Client) -> None:
        for made in requests:
            await client.request(made["action"], made.get("payload"))

    return rejoin


def _lost(stream: LostStream) -> dict[str, Any]:
    return {"name": stream.name, "epoch": stream.epoch, "offset": stream.offset, "reason": stream.reason}


class PythonDriver:
    """The Python client, in this process."""

    name = "python"

    def __init__(self) -> None:
        self.client: Client | None = None
        self.statuses: list[str] = []
        self.token_calls = 0
        self.gaps: list[dict[str, int]] = []
        self.pushed: dict[str, list[dict[str, Any]]] = {}
        self.resyncs: list[list[dict[str, Any]]] = []

    async def call(self, op: str, **arguments: Any) -> Reply:
        handler = getattr(self, f"op_{op}")
        result: Reply = await handler(**arguments)
        return result

    async def stop(self) -> None:
        if self.client is not None:
            await self.client.close()

    @property
    def _client(self) -> Client:
        assert self.client is not None, "connect first"
        return self.client

    async def op_connect(
        self,
        url: str,
        tokens: list[str | None],
        origin: str,
        heartbeat: dict[str, float] | None = None,
        backoff: dict[str, float] | None = None,
        request_timeout: float = 10.0,
        connect_timeout: float = 10.0,
        queue_limit: int = 100,
        rejoin: list[dict[str, Any]] | None = None,
    ) -> Reply:
        async def get_token() -> str | None:
            token = tokens[min(self.token_calls, len(tokens) - 1)]
            self.token_calls += 1
            return token

        self.client = Client(
            url,
            get_token=get_token,
            origin=origin,
            heartbeat=None if heartbeat is None else Heartbeat(heartbeat["interval"], heartbeat["timeout"]),
            backoff=None if backoff is None else Backoff(backoff["initial"], backoff["max"]),
            request_timeout=request_timeout,
            connect_timeout=connect_timeout,
            queue_limit=queue_limit,
            on_gap=lambda expected, received: self.gaps.append({"expected": expected, "received": received}),
            before_resume=None if rejoin is None else _rejoining(rejoin),
            on_resync_needed=lambda lost: self.resyncs.append([_lost(stream) for stream in lost]),
        )
        self.statuses.append(self.client.status)
        self.client.on_status(self.statuses.append)
        self.client.start()
        return {"ok": True}

    async def op_wait_status(self, status: Any, timeout: float) -> Reply:
        with contextlib.suppress(TimeoutError, ClientClosed):
            await self._client.wait_status(status, timeout)
        return {"ok": self._client.status == status, "status": self._client.status}

    async def op_request(
        self, action: str, payload: dict[str, Any], timeout: float | None = None, retry: bool = False
    ) -> Reply:
        try:
            events = await self._client.request(
                action, payload, retry=retry, **({} if timeout is None else {"timeout": timeout})
            )
        except (ProblemError, RequestTimeout, ConnectionLost, QueueFull, ClientClosed) as error:
            return _failure(error)
        return {"ok": True, "events": [_event(event) for event in events]}

    async def op_stream(self, action: str, payload: dict[str, Any], break_after: int | None = None) -> Reply:
        received: list[dict[str, Any]] = []
        try:
            async for event in self._client.stream(action, payload):
                received.append(_event(event))
                if break_after is not None and len(received) >= break_after:
                    break
        except (ProblemError, ConnectionLost, ClientClosed) as error:
            return _failure(error) | {"events": received}
        return {"ok": True, "events": received}

    async def op_abort(self, action: str, payload: dict[str, Any], after: float) -> Reply:
        """Cancelling the task is the Python form of aborting a signal."""
        task = asyncio.create_task(self._client.request(action, payload))
        await asyncio.sleep(after)
        task.cancel()
        try:
            await task
        except BaseException as error:
            return _failure(error)
        return {"ok": True, "events": [_event(event) for event in task.result()]}

    async def op_listen(self, event: str, throw_first: bool = False) -> Reply:
        seen = self.pushed.setdefault(event, [])

        def listener(received: ReceivedEvent) -> None:
            seen.append(_event(received))
            if throw_first and len(seen) == 1:
                raise RuntimeError("a listener that fails")

        self._client.on(event, listener)
        return {"ok": True}

    async def op_received(self, event: str) -> Reply:
        return {"ok": True, "events": list(self.pushed.get(event, []))}

    async def op_state(self) -> Reply:
        client = self._client
        return {
            "ok": True,
            "status": client.status,
            "statuses": list(self.statuses),
            "token_calls": self.token_calls,
            "gaps": list(self.gaps),
            "close_code": client.close_code,
            "recovered": client.recovered,
            "resyncs": list(self.resyncs),
            "positions": {
                name: {"epoch": position.epoch, "offset": position.offset}
                for name, position in client.positions.items()
            },
        }

    async def op_close(self) -> Reply:
        await self._client.close()
        return {"ok": True}


class NodeDriver:
    """The TypeScript client, built in clients/typescript/dist, in a Node process."""

    name = "typescript"

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self._process = process
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[Reply]] = {}
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def start(cls) -> "NodeDriver":
        node = shutil.which("node")
        if node is None or not (TYPESCRIPT / "dist" / "index.js").exists():
            raise RuntimeError("the TypeScript client is not built: run `make typescript`")
        process = await asyncio.create_subprocess_exec(
            node,
            str(NODE_DRIVER),
            cwd=REPOSITORY,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env=os.environ.copy(),
            limit=16 * 1024 * 1024,
        )
        return cls(process)

    async def _read(self) -> None:
        assert self._process.stdout is not None
        while line := await self._process.stdout.readline():
            reply = json.loads(line)
            waiter = self._waiting.pop(reply.pop("id"), None)
            if waiter is not None and not waiter.done():
                waiter.set_result(reply)
        for waiter in self._waiting.values():
            if not waiter.done():
                waiter.set_exception(RuntimeError("the Node driver exited"))

    async def call(self, op: str, **arguments: Any) -> Reply:
        assert self._process.stdin is not None
        command_id = next(self._ids)
        waiter: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self._waiting[command_id] = waiter
        self._process.stdin.write(json.dumps({"id": command_id, "op": op, **arguments}).encode() + b"\n")
        await self._process.stdin.drain()
        return await waiter

    async def stop(self) -> None:
        if self._process.returncode is None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.call("close"), 5)
            assert self._process.stdin is not None
            self._process.stdin.close()
            try:
                await asyncio.wait_for(self._process.wait(), 5)
            except TimeoutError:
                self._process.kill()
                await self._process.wait()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


async def start_driver(name: str) -> Driver:
    """A fresh driver of the named client."""
    if name == "python":
        return PythonDriver()
    return await NodeDriver.start()
