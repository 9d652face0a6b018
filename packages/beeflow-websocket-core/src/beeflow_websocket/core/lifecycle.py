"""One connection's life, written once for every adapter and the test client.

A :class:`ConnectionLifecycle` builds the connection's dispatcher; entered, it makes the connection
reachable in this process, opens it (it joins its user's group) and hands it over; when the block
ends, however it ends, the connection is forgotten by this process first, so nothing new is routed
to it, and then closed: its running actions are stopped and it leaves its groups. An adapter only
moves frames inside the block::

    async with state.connection(transport, user_id=user.id, path=path) as dispatcher:
        await websocket.accept()
        while (frame := await read()) is not None:
            await dispatcher.receive(frame)

When opening fails (the delivery engine cannot record the connection), the connection is closed and
forgotten before the error reaches the adapter, which then refuses the handshake.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from beeflow_websocket.core.dispatcher import ConnectionDispatcher

if TYPE_CHECKING:
    from types import TracebackType

    from beeflow_websocket.core.action_registry import UserId
    from beeflow_websocket.core.delivery.local import LocalConnections
    from beeflow_websocket.core.guardrails.expiry import Expiry, Refresh
    from beeflow_websocket.core.negotiation import ProtocolVersion
    from beeflow_websocket.core.settings import DispatcherSettings
    from beeflow_websocket.core.transport import Delivery, Transport

__all__ = ["ConnectionLifecycle"]


class ConnectionLifecycle:
    """Serves one connection for the duration of an ``async with`` block.

    The dispatcher exists from construction (an adapter may need it before the block, a test
    client to inspect it), but is reachable and open only inside the block.

    Args:
        transport: Writes to the connection, and closes it.
        delivery: Reaches every connection and group of the deployment.
        connections: This process's live connections, where the connection is made reachable;
            ``None`` when the delivery engine finds connections by itself (a Channels layer).
        websocket_id: The connection's id, unique among live connections.
        user_id: The authenticated user's id.
        path: The connection path, the ``instance`` of error frames.
        settings: The protocol settings.
        protocol_version: What the handshake negotiated (see :mod:`beeflow_websocket.core.negotiation`).
        expires_at: When the connection's credentials expire; ``None``: never (see
            :mod:`beeflow_websocket.core.guardrails.expiry`).
        refresh: Checks a fresh token sent with ``beeflow.refresh``; ``None``: refreshes are refused.
    """

    __slots__ = ("_connections", "dispatcher")

    def __init__(
        self,
        transport: Transport,
        *,
        delivery: Delivery,
        connections: LocalConnections | None,
        websocket_id: str,
        user_id: UserId,
        path: str,
        settings: DispatcherSettings,
        protocol_version: ProtocolVersion = 0,
        expires_at: Expiry = None,
        refresh: Refresh | None = None,
    ) -> None:
        self._connections = connections
        self.dispatcher = ConnectionDispatcher(
            transport,
            delivery=delivery,
            websocket_id=websocket_id,
            user_id=user_id,
            path=path,
            settings=settings,
            protocol_version=protocol_version,
            expires_at=expires_at,
            refresh=refresh,
        )

    async def __aenter__(self) -> ConnectionDispatcher:
        """Make the connection reachable and open it.

        Raises:
            DeliveryUnavailable: The connection could not be opened; it is already closed.
            ValueError: Another live connection of this process has the same id.
        """
        if self._connections is not None:
            self._connections.add(self.dispatcher)
        try:
            # Reachable (in its user's group) before the adapter tells the client it is connected.
            await self.dispatcher.open()
        except BaseException:
            await self._end()
            raise
        return self.dispatcher

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self._end()

    async def _end(self) -> None:
        # Forgotten first, so that nothing new is routed to a connection that is closing.
        if self._connections is not None:
            self._connections.discard(self.dispatcher)
        await self.dispatcher.close()
