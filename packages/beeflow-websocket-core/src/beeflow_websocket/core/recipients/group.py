"""The ``group`` recipient: ``recipient_id`` names a group; every connection in it gets the event."""

from __future__ import annotations

from collections.abc import Collection

from beeflow_websocket.core.groups import Group, checked_group_name
from beeflow_websocket.core.recipient_registry import RecipientRegistryMeta

__all__ = ["GroupRecipient"]


class GroupRecipient(metaclass=RecipientRegistryMeta, name="group", default=True):
    """Resolve a group name to that group, in every process."""

    async def resolve(self, recipient_id: str) -> Collection[str | Group]:
        """Return the group; a name that is not allowed raises ``InvalidGroupName``."""
        return (Group(checked_group_name(recipient_id)),)
