"""The throughput load: round trips driven from frame callbacks, so the client costs little per message.

A load generator built on coroutines spends as much CPU per round trip as a fast server does, and on
a machine of two cores it then takes the server's share. picows parses and builds frames in C and
calls back for each frame with no task switch: the next request is sent from the callback that
received the answer.
"""

from __future__ import annotations

import asyncio
import time

from picows import WSFrame, WSListener, WSMsgType, WSTransport, ws_connect

from clients import WIRES, Wire


class RoundTrips(WSListener):  # type: ignore[misc]
    """One connection: the wire's handshake, then a request after each answer until ``stop_at``."""

    def __init__(self, wire: Wire) -> None:
        self.wire = wire
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.finished: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: WSTransport | None = None
        self.stop_at = 0.0
        self.count = 0

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.transport = transport
        self._greet(None)

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type != WSMsgType.TEXT:
            return
        assert frame.fin, "answers are single frames"
        text = frame.get_payload_as_utf8_text()
        if not self.ready.done():
            self._greet(text)
            return
        if (reply := self.wire.housekeeping(text)) is not None:
            transport.send(WSMsgType.TEXT, reply.encode())
            return
        self.count += 1
        if time.time() < self.stop_at:
            transport.send(WSMsgType.TEXT, self.wire.request().encode())
        elif not self.finished.done():
            self.finished.set_result(None)

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        for future in (self.ready, self.finished):
            if not future.done():
                future.set_exception(ConnectionError("the server closed the connection"))

    def start(self, stop_at: float) -> None:
        assert self.transport is not None
        self.stop_at = stop_at
        self.transport.send(WSMsgType.TEXT, self.wire.request().encode())

    def _greet(self, frame: str | None) -> None:
        assert self.transport is not None
        reply, ready = self.wire.greeting(frame)
        if reply is not None:
            self.transport.send(WSMsgType.TEXT, reply.encode())
        if ready:
            self.ready.set_result(None)


async def load(
    wire_name: str, url: str, connections: int, start_at: float, stop_at: float
) -> tuple[int, float]:
    """One load process: connect, wait for the common start, then round trips until ``stop_at``.

    Returns the answers received and the process's CPU seconds while the load ran.
    """
    wire = WIRES[wire_name]()
    headers = wire.headers()
    opened = [
        await ws_connect(lambda: RoundTrips(wire), wire.url(url), extra_headers=headers)
        for _ in range(connections)
    ]
    listeners: list[RoundTrips] = [listener for _, listener in opened]
    await asyncio.gather(*(listener.ready for listener in listeners))
    await asyncio.sleep(max(0.0, start_at - time.time()))
    cpu = time.process_time()
    for listener in listeners:
        listener.start(stop_at)
    await asyncio.gather(*(listener.finished for listener in listeners))
    cpu = time.process_time() - cpu
    for transport, _ in opened:
        transport.disconnect()
    return sum(listener.count for listener in listeners), cpu
