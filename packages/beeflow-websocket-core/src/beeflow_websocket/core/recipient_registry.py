"""Recipients: how an event's logical addressee becomes concrete connection ids.

A recipient resolver is registered by name; an event's ``recipient`` names it and its
``recipient_id`` is what the resolver resolves. The built-in ``websocket`` recipient resolves a
connection id to itself; ``user`` resolves a user id to every connection of that user, and
``group`` a group name to the connections that joined it, in every process. An application can map
its own notions (a team, a document's editors) onto connection ids it tracks, or onto groups::

    class TeamRecipient(metaclass=RecipientRegistryMeta, name="team"):
        async def resolve(self, recipient_id: str) -> Collection[str]:
            return await connections_of_team(recipient_id)
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, ClassVar, Protocol, runtime_checkable

from beeflow_websocket.core._registry import Registry, RegistryMeta
from beeflow_websocket.core.exceptions import RecipientMapDoesNotExist

if TYPE_CHECKING:
    from beeflow_websocket.core.groups import Group

__all__ = [
    "RecipientMapDoesNotExist",
    "RecipientPluginProtocol",
    "RecipientRegistryMeta",
]


@runtime_checkable
class RecipientPluginProtocol(Protocol):
    """What the dispatcher needs of a recipient resolver's instances."""

    async def resolve(self, recipient_id: str) -> Collection[str | Group]:
        """Return the connection ids (and :class:`~beeflow_websocket.core.groups.Group` names) that
        ``recipient_id`` names; empty when none is live."""  # noqa: D205, D209
        ...


class RecipientRegistryMeta(RegistryMeta):
    """Metaclass that registers recipient resolvers under their ``name=`` class keyword.

    Looking up a name that is not registered raises :class:`RecipientMapDoesNotExist`.
    """

    registry: ClassVar[Registry[type[RecipientPluginProtocol]]] = Registry(
        "recipient", RecipientMapDoesNotExist
    )
    name_attribute = "recipient_name"


# The built-in recipients register where their registry lives, so that any code that can name a
# recipient (a push from a Celery task included) finds them without importing anything else.
from beeflow_websocket.core.recipients import group as _group, user as _user, websocket as _websocket  # noqa: E402, F401, I001
