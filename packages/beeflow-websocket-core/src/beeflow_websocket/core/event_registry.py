"""Events: what the server sends, registered by name.

An event names its recipient (a registered recipient resolver, such as ``websocket``), the id the
resolver turns into connections, and a payload. Subclass :class:`Event` and give the payload a
pydantic model to have UUIDs, datetimes, enums and nested models serialised in JSON mode::

    class ChatPosted(BaseModel):
        room: str
        text: str
        at: datetime

    class ChatPostedEvent(Event[ChatPosted], name="chat.posted"):
        pass
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, Generic, Protocol, runtime_checkable
from uuid import UUID

from pydantic import BaseModel, JsonValue
from typing_extensions import TypeVar

from beeflow_websocket.core._registry import Registry, RegistryMeta
from beeflow_websocket.core.exceptions import EventDoesNotExist

__all__ = [
    "Event",
    "EventPayload",
    "EventPluginProtocol",
    "EventRegistryMeta",
]

type EventPayload = BaseModel | Mapping[str, JsonValue]
"""What an event may carry: a pydantic model, or a mapping of JSON values."""

# The default is the bound, so that a bare ``Event`` (``AsyncIterator[Event]`` in an action's
# signature) means any event, typed or not; covariance lets ``Event[Model]`` stand for it.
PayloadT = TypeVar(
    "PayloadT",
    bound=BaseModel | Mapping[str, JsonValue],
    default=BaseModel | Mapping[str, JsonValue],
    covariant=True,
)


@runtime_checkable
class EventPluginProtocol(Protocol):
    """What the dispatcher reads from an event it is asked to send."""

    event_name: ClassVar[str]

    @property
    def recipient(self) -> str:
        """Name of the registered recipient resolver."""
        ...

    @property
    def recipient_id(self) -> str:
        """The id the resolver turns into connection ids."""
        ...

    @property
    def req_id(self) -> UUID | None:
        """The request this event answers, or ``None`` for an event no request caused."""
        ...

    @property
    def payload(self) -> EventPayload:
        """The event's data."""
        ...


class EventRegistryMeta(RegistryMeta):
    """Metaclass that registers event classes under their ``name=`` class keyword.

    The name is the ``event`` member of the frame. Looking up a name that is not registered raises
    :class:`~beeflow_websocket.core.exceptions.EventDoesNotExist`.
    """

    registry: ClassVar[Registry[type[EventPluginProtocol]]] = Registry("event", EventDoesNotExist)
    name_attribute = "event_name"


class Event(Generic[PayloadT], metaclass=EventRegistryMeta):
    """Base class for events: subclass it with ``name=`` and, ideally, a payload model.

    Args:
        recipient: Name of the registered recipient resolver, e.g. ``"websocket"``.
        recipient_id: What the resolver resolves; integers and UUIDs are turned into strings.
        payload: The event's data: an instance of the declared model, or a mapping of JSON values.
        req_id: The request this event answers; ``None`` for events no request caused.
        exclude_current: Leave out the connection whose action yields the event: a ``user`` or
            ``group`` recipient then means everyone but the asker (the user's other tabs, the rest
            of the room). Pushes have no asking connection, so it changes nothing there.

    Raises:
        ValueError: ``recipient`` or ``recipient_id`` is blank.
    """

    __register__ = False
    __slots__ = ("exclude_current", "payload", "recipient", "recipient_id", "req_id")

    event_name: ClassVar[str]

    def __init__(
        self,
        *,
        recipient: str,
        recipient_id: str | int | UUID,
        payload: PayloadT,
        req_id: UUID | None = None,
        exclude_current: bool = False,
    ) -> None:
        if not recipient or not recipient.strip():
            raise ValueError("an event's recipient must not be blank")
        recipient_id = str(recipient_id)
        if not recipient_id.strip():
            raise ValueError("an event's recipient_id must not be blank")
        self.recipient = recipient
        self.recipient_id = recipient_id
        self.payload: PayloadT = payload
        self.req_id = req_id
        self.exclude_current = exclude_current

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(recipient={self.recipient!r}, recipient_id={self.recipient_id!r}, "
            f"req_id={self.req_id!r}, payload={self.payload!r})"
        )


# The built-in ``health`` event registers where its registry lives.
from beeflow_websocket.core.events import health as _health  # noqa: E402, F401
