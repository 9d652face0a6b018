"""Delivery between the connections of one process: the default engine, with nothing to install.

FastAPI and Flask keep their live connections here unless they are configured with Redis (which
uses it for the local part), and so does the in-memory test client.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection
from typing import TYPE_CHECKING, Final

from beeflow_websocket.core.guardrails.rate_limits import LocalTokens

if TYPE_CHECKING:
    from beeflow_websocket.core.dispatcher import ConnectionDispatcher
    from beeflow_websocket.core.history.memory import MemoryHistory
    from beeflow_websocket.core.transport import OutboundEvent

__all__ = ["LocalConnections"]

# The logger keeps the name it was documented under (docs/en/logging.md).
logger: Final = logging.getLogger("beeflow_websocket.core.delivery.local")


class LocalConnections:
    """The live connections of one process, by connection id, and the groups they are in.

    Args:
        history: The history of this process's streams, when they keep one; as an engine, the
            connections append each event of such a stream to it before sending it.
    """

    def __init__(self, history: MemoryHistory | None = None) -> None:
        self._dispatchers: dict[str, ConnectionDispatcher] = {}
        self._groups: dict[str, set[str]] = {}
        self.tokens = LocalTokens()
        """The users' rate-limit buckets of this process (see ``guardrails.limiter``)."""
        self.history = history
        """Where the streams of this process keep their events (see ``beeflow_websocket.core.history``)."""

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

    def members(self, group: str) -> frozenset[str]:
        """The ids of this process's connections in ``group``."""
        return frozenset(self._groups.get(group, ()))

    async def send_to_connections(self, websocket_ids: Collection[str], event: OutboundEvent) -> None:
        """Deliver ``event`` to each connection of ``websocket_ids`` that lives in this process.

        Every connection with room takes the event at once; those whose outbound queue is full are
        waited for together, so stalled receivers cost the others one ``slow_consumer_timeout`` at
        most, however many there are.
        """
        full = []
        for websocket_id in websocket_ids:
            dispatcher = self._dispatchers.get(websocket_id)
            if dispatcher is None:
                logger.debug("dropped an event for connection %s: not connected here", websocket_id)
            elif not dispatcher.offer(event):
                full.append(dispatcher)
        if len(full) == 1:
            await full[0].deliver(event)
        elif full:
            await asyncio.gather(*(dispatcher.deliver(event) for dispatcher in full))

    def post_to_connections(self, websocket_ids: Collection[str], event: OutboundEvent) -> None:
        """Queue ``event`` for each connection of ``websocket_ids`` here, never waiting for any of them.

        For a sender that must not be held up by a slow receiver (the Redis listener that feeds this
        process): see :meth:`ConnectionDispatcher.post`.
        """
        for websocket_id in websocket_ids:
            dispatcher = self._dispatchers.get(websocket_id)
            if dispatcher is None:
                logger.debug("dropped an event for connection %s: not connected here", websocket_id)
            else:
                dispatcher.post(event)

    def recheck_streams(self) -> None:
        """Have every connection here read what its streams kept that it may not have heard."""
        for dispatcher in list(self._dispatchers.values()):
            dispatcher.recheck_streams()

    def post_to_group(self, group: str, event: OutboundEvent) -> None:
        """Queue ``event`` for every connection here in ``group``, never waiting for any of them."""
        self.post_to_connections(self.members(group), event)

    async def send_to_group(self, group: str, event: OutboundEvent) -> OutboundEvent:
        """Deliver ``event`` to every connection of this process in ``group``; return it as sent.

        When the group's stream keeps a history, the event is appended to it first and delivered with
        its position.
        """
        history = self.history
        if history is not None and history.policy.keeps(group):
            event = history.keep(group, event)
        await self.send_to_members(group, event)
        return event

    async def send_to_members(self, group: str, event: OutboundEvent) -> None:
        """Deliver ``event`` as it is to every connection of this process in ``group``."""
        await self.send_to_connections(tuple(self._groups.get(group, ())), event)

    async def close_connections(self, websocket_ids: Collection[str], code: int, reason: str) -> None:
        """Close each connection of ``websocket_ids`` that lives in this process; the rest are skipped."""
        for websocket_id in websocket_ids:
            self.disconnect(websocket_id, code, reason)

    async def close_group(self, group: str, code: int, reason: str) -> None:
        """Close every connection of this process in ``group``."""
        await self.close_connections(tuple(self._groups.get(group, ())), code, reason)

    def disconnect(self, websocket_id: str, code: int, reason: str) -> None:
        """Start closing the connection ``websocket_id`` if it lives here; it closes in a task of its own."""
        dispatcher = self._dispatchers.get(websocket_id)
        if dispatcher is not None:
            dispatcher.disconnect(code, reason)

    async def add_to_group(self, group: str, websocket_id: str) -> None:
        """Put a connection into a group."""
        self._groups.setdefault(group, set()).add(websocket_id)

    async def remove_from_group(self, group: str, websocket_id: str) -> None:
        """Take a connection out of a group; an empty group is forgotten."""
        members = self._groups.get(group)
        if members is not None:
            members.discard(websocket_id)
            if not members:
                del self._groups[group]
