"""Telling a dead connection from a quiet one, the same way in every client and in a browser.

A browser cannot see WebSocket pings, so the heartbeat is the protocol's own ``beeflow.ping``: when
nothing has arrived for ``interval`` seconds the client pings, and when nothing at all arrives
``timeout`` seconds after that, the connection is dropped at once, without a closing handshake a
paused server would never finish. Any frame counts as liveness.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final

from websockets.asyncio.client import ClientConnection

__all__ = ["DEFAULT_HEARTBEAT", "Heartbeat", "keep_alive"]

logger: Final = logging.getLogger("beeflow_websocket.client")


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """When to ping, and how long to wait for a sign of life after a ping.

    Attributes:
        interval: Seconds of silence from the server after which the client pings.
        timeout: Seconds after a ping within which some frame must arrive.
    """

    interval: float = 25.0
    timeout: float = 10.0


DEFAULT_HEARTBEAT: Final = Heartbeat()
"""Ping after 25 s of silence; a connection silent 10 s after the ping is dead."""


async def keep_alive(
    socket: ClientConnection,
    heartbeat: Heartbeat,
    received_at: Callable[[], float],
    ping: Callable[[], Awaitable[None]],
) -> None:
    """Ping ``socket`` when it is quiet; drop it when it stays silent after a ping.

    Args:
        socket: The open connection.
        heartbeat: The interval and the timeout.
        received_at: The event loop's time of the last frame received.
        ping: Sends ``beeflow.ping``.
    """
    loop = asyncio.get_running_loop()
    while True:
        await asyncio.sleep(max(0.0, received_at() + heartbeat.interval - loop.time()))
        if loop.time() - received_at() < heartbeat.interval:
            continue
        pinged = loop.time()
        await ping()
        await asyncio.sleep(heartbeat.timeout)
        if received_at() < pinged:
            logger.warning("no frame for %.1f s after a ping: the connection is dead", heartbeat.timeout)
            socket.transport.abort()  # no closing handshake: a paused server never answers it
            return
