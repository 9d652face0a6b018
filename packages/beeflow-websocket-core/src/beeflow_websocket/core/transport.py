"""The interface between the protocol and a framework: what an adapter implements.

The dispatcher decides what to send; a transport sends it. An adapter implements two methods: one
that writes a text frame to the connection it serves, and one that hands an event to other
connections, wherever they live (the same process, or another one behind a channel layer or Redis).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Protocol

__all__ = ["OutboundEvent", "Transport"]


@dataclass(frozen=True, slots=True)
class OutboundEvent:
    """An event serialised for any connection, short of what the receiving connection adds.

    ``msg_id`` and ``seq`` belong to the connection that receives the frame, so they are added by
    that connection's dispatcher (:meth:`ConnectionDispatcher.deliver`). The rest is serialised once,
    however many connections receive it, and is plain data that can cross a process boundary.

    Attributes:
        req_id: The request the event answers, as a string, or ``None``.
        body: The JSON object text ``{"event":…,"recipient":…,"recipient_id":…,"payload":…}``.
    """

    req_id: str | None
    body: str


class Transport(Protocol):
    """What a dispatcher needs from the framework that holds its connection."""

    async def send(self, frame: str) -> None:
        """Write one text frame to this connection."""
        ...

    async def route(self, websocket_ids: Collection[str], event: OutboundEvent) -> None:
        """Hand ``event`` to the connections ``websocket_ids``, none of which is this one.

        Each receiving connection passes it to its own dispatcher's ``deliver``. Ids of connections
        that have gone are skipped without an error: the sender cannot know they went.
        """
        ...
