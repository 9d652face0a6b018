"""The interfaces between the protocol and a framework: what an adapter implements.

The dispatcher decides what to send; two small interfaces carry it out:

- a :class:`Transport` writes to the one connection it serves, and can close it;
- a :class:`Delivery` engine reaches any connection or group of the deployment: the connections of
  this process (:class:`~beeflow_websocket.core.delivery.local.LocalConnections`), or of every process
  through Redis or a Channels channel layer.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Final, NamedTuple, Protocol

if TYPE_CHECKING:
    from beeflow_websocket.core.history.positions import StreamPosition

__all__ = ["IDLE_CLOSE_CODE", "SLOW_CONSUMER_CLOSE_CODE", "Delivery", "OutboundEvent", "Transport"]

SLOW_CONSUMER_CLOSE_CODE: Final = 1013
"""Close code for a client whose outbound queue is full because it stopped reading ("try again later")."""

IDLE_CLOSE_CODE: Final = 4408
"""Close code for a client that sent nothing for ``idle_timeout`` seconds (4000 + HTTP 408)."""


class OutboundEvent(NamedTuple):
    """An event serialised for any connection, short of what the receiving connection adds.

    ``msg_id`` and ``seq`` belong to the connection that receives the frame, so they are added by
    that connection's dispatcher (:meth:`ConnectionDispatcher.deliver`). The rest is serialised once,
    however many connections receive it, and is plain data that can cross a process boundary. A named
    tuple, made once per event: a frozen dataclass of four fields takes twice as long to build.

    Attributes:
        req_id: The request the event answers, as a string, or ``None``.
        body: The JSON object text ``{"event":…,"recipient":…,"recipient_id":…,"payload":…}``.
        skip: A connection that must not receive it (the asker, for an event that excludes it).
        position: Its place in the history of the stream it was sent to, when that stream keeps one;
            v1 frames carry it as ``"stream"``.
    """

    req_id: str | None
    body: str
    skip: str | None = None
    position: StreamPosition | None = None


class Transport(Protocol):
    """What a dispatcher needs from the framework that holds its connection."""

    async def send(self, frame: str) -> None:
        """Write one text frame to this connection; may wait while the client is slow to read."""
        ...

    async def close(self, code: int, reason: str) -> None:
        """Close this connection from the server side."""
        ...


class Delivery(Protocol):
    """Reaches connections and groups, wherever in the deployment they live.

    Receiving connections get each event through their dispatcher's ``deliver``. Ids of connections
    that have gone are skipped without an error. A failure to hand an event over raises
    :class:`~beeflow_websocket.core.problems.DeliveryUnavailable`.
    """

    async def send_to_connections(self, websocket_ids: Collection[str], event: OutboundEvent) -> None:
        """Hand ``event`` to each of the connections ``websocket_ids``."""
        ...

    async def send_to_group(self, group: str, event: OutboundEvent) -> OutboundEvent:
        """Hand ``event`` to every connection in ``group``; return it as sent.

        When the group's stream keeps a history, the event is appended to it and sent with its
        position (see :mod:`beeflow_websocket.core.history`), which the returned event carries.
        """
        ...

    async def add_to_group(self, group: str, websocket_id: str) -> None:
        """Put a connection into a group."""
        ...

    async def remove_from_group(self, group: str, websocket_id: str) -> None:
        """Take a connection out of a group; nothing happens if it was not in it."""
        ...

    async def close_connections(self, websocket_ids: Collection[str], code: int, reason: str) -> None:
        """Close each of the connections ``websocket_ids`` with ``code`` and ``reason``."""
        ...

    async def close_group(self, group: str, code: int, reason: str) -> None:
        """Close every connection in ``group`` with ``code`` and ``reason``."""
        ...
