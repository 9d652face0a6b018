"""A TCP proxy on 127.0.0.1 whose connections a test can cut: a network that drops, for real clients.

A client connects to the proxy's port and is piped to the server behind it. :meth:`Proxy.cut` drops
every connection at once, as a lost network does (the client sees an abnormal close, the server a
vanished peer); while :meth:`Proxy.hold` is in effect new connections are refused, so the client
stays offline, retrying; :meth:`Proxy.route_to` sends the next connections to another server (a
client that reconnects to another process). It runs on the test's event loop.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Self


class Proxy:
    """Pipes connections on ``port`` to the server on ``target``."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.port = 0
        self.connections = 0
        """How many connections it has piped so far."""
        self._held = False
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    def url(self, path: str = "/ws/") -> str:
        return f"ws://127.0.0.1:{self.port}{path}"

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for pipe in list(self._pipes):
            pipe.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)

    def cut(self) -> None:
        """Drop every piped connection now, on both sides, without a WebSocket close."""
        for writer in list(self._writers):
            transport = writer.transport
            transport.abort()
        self._writers.clear()

    @contextlib.asynccontextmanager
    async def held(self) -> AsyncIterator[None]:
        """Cut every connection and refuse new ones until the block ends: the client is offline."""
        self._held = True
        self.cut()
        try:
            yield
        finally:
            self._held = False

    def route_to(self, target: int) -> None:
        """Pipe the next connections to the server on ``target``."""
        self.target = target

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._held:
            writer.transport.abort()
            return
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.target)
        except OSError:
            writer.transport.abort()
            return
        self.connections += 1
        self._writers |= {writer, upstream_writer}
        pipes = (
            asyncio.ensure_future(_pipe(reader, upstream_writer)),
            asyncio.ensure_future(_pipe(upstream_reader, writer)),
        )
        self._pipes.update(pipes)
        try:
            await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for pipe in pipes:
                pipe.cancel()
            for end in (writer, upstream_writer):
                end.transport.abort()
                self._writers.discard(end)
            self._pipes.difference_update(pipes)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError, asyncio.IncompleteReadError):
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
