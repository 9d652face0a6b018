"""Recipients: how an event's logical addressee becomes concrete connection ids.

A recipient resolver is registered by name; an event's ``recipient`` names it and its
``recipient_id`` is what the resolver resolves. The built-in ``websocket`` recipient resolves a
connection id to itself. An application can map its own notions (a team, a document's editors) onto
connection ids it tracks::

    class TeamRecipient(metaclass=RecipientRegistryMeta, name="team"):
        async def resolve(self, recipient_id: str) -> Collection[str]:
            return await connections_of_team(recipient_id)
"""

from __future__ import annotations

from collections.abc import Collection
from typing import ClassVar, Protocol, runtime_checkable

from beeflow_websocket.core._registry import Registry, RegistryMeta
from beeflow_websocket.core.exceptions import RecipientMapDoesNotExist

__all__ = [
    "RecipientMapDoesNotExist",
    "RecipientPluginProtocol",
    "RecipientRegistryMeta",
]


@runtime_checkable
class RecipientPluginProtocol(Protocol):
    """What the dispatcher needs of a recipient resolver's instances."""

    async def resolve(self, recipient_id: str) -> Collection[str]:
        """Return the connection ids that ``recipient_id`` names; empty when none is live."""
        ...


class RecipientRegistryMeta(RegistryMeta):
    """Metaclass that registers recipient resolvers under their ``name=`` class keyword.

    Looking up a name that is not registered raises :class:`RecipientMapDoesNotExist`.
    """

    registry: ClassVar[Registry[type[RecipientPluginProtocol]]] = Registry(
        "recipient", RecipientMapDoesNotExist
    )
    name_attribute = "recipient_name"
