"""The ``websocket`` recipient: ``recipient_id`` is a connection id, and names that connection."""

from __future__ import annotations

from collections.abc import Collection

from beeflow_websocket.core.recipient_registry import RecipientRegistryMeta

__all__ = ["WebSocketRecipient"]


class WebSocketRecipient(metaclass=RecipientRegistryMeta, name="websocket", default=True):
    """Resolve a connection id to itself."""

    async def resolve(self, recipient_id: str) -> Collection[str]:
        """Return ``(recipient_id,)``: the connection the id names, live or not."""
        return (recipient_id,)
