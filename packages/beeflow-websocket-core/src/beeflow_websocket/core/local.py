"""Routing between the connections of one process.

FastAPI and Flask keep their live connections here by default (and the in-memory test client does),
so an event whose recipient resolves to another connection of the same process reaches it.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from beeflow_websocket.core.dispatcher import ConnectionDispatcher
    from beeflow_websocket.core.transport import OutboundEvent

__all__ = ["LocalConnections"]

logger: Final = logging.getLogger(__name__)


class LocalConnections:
    """The live connections of one process, by connection id."""

    def __init__(self) -> None:
        self._dispatchers: dict[str, ConnectionDispatcher] = {}

    def __contains__(self, websocket_id: object) -> bool:
        return websocket_id in self._dispatchers

    def __len__(self) -> int:
        return len(self._dispatchers)

    def add(self, dispatcher: ConnectionDispatcher) -> None:
        """Make a connection reachable.

        Raises:
            ValueError: Another live connection already has this id.
        """
        websocket_id = dispatcher.websocket_id
        if self._dispatchers.setdefault(websocket_id, dispatcher) is not dispatcher:
            raise ValueError(f"a live connection already has the id {websocket_id!r}")

    def discard(self, dispatcher: ConnectionDispatcher) -> None:
        """Forget a connection that has closed; does nothing when it is not registered."""
        if self._dispatchers.get(dispatcher.websocket_id) is dispatcher:
            del self._dispatchers[dispatcher.websocket_id]

    async def route(self, websocket_ids: Collection[str], event: OutboundEvent) -> None:
        """Deliver ``event`` to each live connection in ``websocket_ids``.

        A connection that is not here, or fails while it is being written to because it is
        closing, is skipped with a debug record: the sender's request did nothing wrong.
        """
        for websocket_id in websocket_ids:
            dispatcher = self._dispatchers.get(websocket_id)
            if dispatcher is None:
                logger.debug("dropped an event for connection %s: not connected here", websocket_id)
                continue
            try:
                await dispatcher.deliver(event)
            except Exception:
                logger.debug("dropped an event for connection %s: it is closing", websocket_id, exc_info=True)
