"""A Python client for Beeflow WebSocket protocol v1.

``async with connect(url, token=...) as client``, then ``await client.request(action, payload)``
for an answer, ``async for event in client.stream(action, payload)`` for a stream (leaving the
loop cancels it on the server), ``client.on(event, listener)`` for pushes. It reconnects with
backoff, fetches a fresh token for every attempt, detects a dead connection with ``beeflow.ping``,
and sends a request made with ``retry=True`` again when its connection was lost. It is also the
way to test an application end to end, over its real server.
"""

from beeflow_websocket.client.backoff import Backoff
from beeflow_websocket.client.connection import (
    DEFAULT_TIMEOUT,
    TERMINAL_CLOSE_CODES,
    Client,
    Status,
    connect,
)
from beeflow_websocket.client.errors import (
    ClientClosed,
    ClientError,
    ConnectionLost,
    ProblemError,
    ProtocolMismatch,
    QueueFull,
    RequestTimeout,
    Unauthorized,
)
from beeflow_websocket.client.events import ReceivedEvent
from beeflow_websocket.client.heartbeat import Heartbeat
from beeflow_websocket.client.positions import LostStream, Position

__all__ = [
    "DEFAULT_TIMEOUT",
    "TERMINAL_CLOSE_CODES",
    "Backoff",
    "Client",
    "ClientClosed",
    "ClientError",
    "ConnectionLost",
    "Heartbeat",
    "LostStream",
    "Position",
    "ProblemError",
    "ProtocolMismatch",
    "QueueFull",
    "ReceivedEvent",
    "RequestTimeout",
    "Status",
    "Unauthorized",
    "connect",
]
