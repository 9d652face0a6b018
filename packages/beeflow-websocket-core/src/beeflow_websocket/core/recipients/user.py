"""The ``user`` recipient: ``recipient_id`` is a user id; every live connection of that user gets it."""

from __future__ import annotations

from collections.abc import Collection

from beeflow_websocket.core.groups import Group, user_group
from beeflow_websocket.core.recipient_registry import RecipientRegistryMeta

__all__ = ["UserRecipient"]


class UserRecipient(metaclass=RecipientRegistryMeta, name="user", default=True):
    """Resolve a user id to the group of that user's connections, in every process."""

    async def resolve(self, recipient_id: str) -> Collection[str | Group]:
        """Return the user's group."""
        return (Group(user_group(recipient_id)),)
