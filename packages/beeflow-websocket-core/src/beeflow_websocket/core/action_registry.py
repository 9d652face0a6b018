"""Actions: what a client can ask for, registered by name.

An action is a class whose ``execute`` is an async generator: it yields zero, one or many events
and may raise a :class:`~beeflow_websocket.core.problems.WebSocketProblem` to answer with an error.
Subclass :class:`Action` with a pydantic model to have the payload validated before the action runs,
and typed inside it::

    class Greeting(BaseModel):
        name: str

    class Greet(Action[Greeting], name="greet"):
        async def execute(
            self, message: ActionMessage[Greeting], context: ActionContext
        ) -> AsyncIterator[Greeted]:
            yield Greeted(..., payload={"text": f"Hello, {message.payload.name}"})

The 0.3.0 form, a class with ``metaclass=ActionRegistryMeta`` whose ``execute`` takes a
``WebSocketActionPayload``, keeps working and receives the payload as a plain object. A fresh
instance runs each request, so an action may keep per-request state on ``self``.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import (
    TYPE_CHECKING,
    Any,
    ClassVar,
    Generic,
    Protocol,
    cast,
    get_args,
    get_origin,
    runtime_checkable,
)
from uuid import UUID

from pydantic import BaseModel, JsonValue
from typing_extensions import TypeVar

from beeflow_websocket.core._registry import Registry, RegistryMeta
from beeflow_websocket.core.event_registry import EventPluginProtocol
from beeflow_websocket.core.exceptions import ActionDoesNotExist
from beeflow_websocket.core.guardrails.kick import (
    KICKED_CLOSE_CODE,
    KICKED_REASON,
    disconnect_connection,
    disconnect_user,
)
from beeflow_websocket.core.guardrails.rate_limits import RateLimit
from beeflow_websocket.core.guardrails.rate_limits import rate_limit as checked_rate_limit
from beeflow_websocket.core.payloads import ActionMessage, WebSocketActionPayload
from beeflow_websocket.core.problems import WebSocketProblem

if TYPE_CHECKING:
    from beeflow_websocket.core.transport import Delivery

__all__ = [
    "Action",
    "ActionContext",
    "ActionPluginProtocol",
    "ActionRegistryMeta",
    "GroupMembership",
    "UserId",
]

type UserId = int | str | UUID
"""An application's user id: a positive integer, a non-blank string, or a UUID."""


@runtime_checkable
class ActionPluginProtocol(Protocol):
    """What the dispatcher needs of an action class's instances."""

    def execute(
        self, message: WebSocketActionPayload, context: ActionContext
    ) -> AsyncIterator[EventPluginProtocol]:
        """Yield the events that answer ``message``."""
        ...


class ActionRegistryMeta(RegistryMeta):
    """Metaclass that registers action classes under their ``name=`` class keyword.

    ``ActionRegistryMeta.registry`` maps names to classes; looking up a name that is not registered
    raises :class:`~beeflow_websocket.core.exceptions.ActionDoesNotExist`.
    """

    registry: ClassVar[Registry[type[ActionPluginProtocol]]] = Registry("action", ActionDoesNotExist)
    name_attribute = "action_name"

    def __new__(
        mcs,
        cls_name: str,
        bases: tuple[type, ...],
        namespace: dict[str, Any],
        /,
        *,
        timeout: float | None = None,
        raises: Iterable[type[WebSocketProblem]] = (),
        rate_limit: RateLimit | str | None = None,
        user_rate_limit: RateLimit | str | None = None,
        **kwargs: Any,
    ) -> ActionRegistryMeta:
        """Refuse an ``execute`` that cannot yield, then register the class.

        Besides ``name=``, ``replace=`` and ``default=``, an action class takes ``timeout=`` (seconds
        it may run; past them it is stopped and answered 504 ``action_timeout``; unset, the
        ``action_timeout`` setting applies) and ``raises=`` (the problem classes it may end with,
        which the contract document lists), and ``rate_limit=`` and ``user_rate_limit=`` (how often
        one connection, or one user on all its connections, may ask for this action, such as
        ``"10/s"``; beyond it the request is answered 429 ``rate_limited``, on top of the settings'
        limits for all actions). Subclasses inherit them.
        """
        _refuse_coroutine_execute(cls_name, namespace.get("execute"))
        if timeout is not None and (
            isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0
        ):
            raise TypeError(f"{cls_name}: timeout must be a positive number of seconds, got {timeout!r}")
        problems = tuple(raises)
        for problem in problems:
            if not (isinstance(problem, type) and issubclass(problem, WebSocketProblem)):
                raise TypeError(f"{cls_name}: raises= takes WebSocketProblem subclasses, got {problem!r}")
        try:
            limits = {
                "action_rate_limit": checked_rate_limit(rate_limit, "rate_limit"),
                "action_user_rate_limit": checked_rate_limit(user_rate_limit, "user_rate_limit"),
            }
        except ValueError as error:
            raise TypeError(f"{cls_name}: {error}") from None
        cls = super().__new__(mcs, cls_name, bases, namespace, **kwargs)
        for attribute, limit in limits.items():
            if limit is not None or not hasattr(cls, attribute):
                setattr(cls, attribute, limit)
        if timeout is not None:
            cls.action_timeout = float(timeout)  # type: ignore[attr-defined]
        elif not hasattr(cls, "action_timeout"):
            cls.action_timeout = None  # type: ignore[attr-defined]
        if problems or not hasattr(cls, "action_problems"):
            cls.action_problems = problems  # type: ignore[attr-defined]
        return cast("ActionRegistryMeta", cls)

    def __init__(
        cls,  # noqa: N805 - a metaclass instance is a class
        cls_name: str,
        bases: tuple[type, ...],
        namespace: dict[str, Any],
        /,
        **kwargs: Any,
    ) -> None:
        for keyword in ("timeout", "raises", "rate_limit", "user_rate_limit"):
            kwargs.pop(keyword, None)
        super().__init__(cls_name, bases, namespace, **kwargs)


def _refuse_coroutine_execute(cls_name: str, execute: object) -> None:
    # An ``async def`` without ``yield`` would only fail when a client calls it, as a 500 with a
    # TypeError in the log; at definition time the mistake and its fix can be named.
    if inspect.iscoroutinefunction(execute):
        raise TypeError(
            f"{cls_name}.execute is a coroutine function (async def without yield); an action's "
            "execute must be an async generator that yields its events. An action that answers with "
            "no event (for example one that only raises WebSocketProblem) still needs a yield: end it "
            "with `return` followed by an unreachable `yield`."
        )


class GroupMembership(Protocol):
    """The connection behind a context, which joins and leaves groups and reaches the deployment."""

    @property
    def delivery(self) -> Delivery:
        """The engine that reaches every connection and group of the deployment."""
        ...

    @property
    def groups(self) -> frozenset[str]:
        """The groups the connection is in."""
        ...

    async def join(self, group: str) -> None:
        """Put the connection into ``group``."""
        ...

    async def leave(self, group: str) -> None:
        """Take the connection out of ``group``."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionContext:
    """Who is asking: the connection and the authenticated user an action runs for.

    One context lives as long as its connection and is shared by every action that connection runs.

    Attributes:
        websocket_id: The connection id; the ``recipient_id`` that reaches this connection through
            the ``websocket`` recipient.
        user_id: The authenticated user's id: a positive integer, a non-blank string or a UUID.

    Raises:
        TypeError: ``websocket_id`` or ``user_id`` has the wrong type.
        ValueError: ``websocket_id`` is blank, or ``user_id`` is not positive or is blank.
    """

    websocket_id: str
    user_id: UserId
    membership: GroupMembership | None = field(default=None, repr=False, compare=False)
    """The connection, for joining groups; set by the dispatcher, ``None`` for a detached context."""

    def __post_init__(self) -> None:
        if not isinstance(self.websocket_id, str):
            raise TypeError(f"websocket_id must be a string, got {type(self.websocket_id).__name__}")
        if not self.websocket_id.strip():
            raise ValueError("websocket_id must not be blank")
        _check_user_id(self.user_id)

    @property
    def groups(self) -> frozenset[str]:
        """The groups this connection has joined."""
        return self._membership().groups

    async def join(self, group: str) -> None:
        """Put this connection into ``group``, in every process; it leaves when it closes.

        Raises:
            InvalidGroupName: ``group`` is not 1 to 100 characters from ``A-Z a-z 0-9 . _ : -``.
            DeliveryUnavailable: The delivery engine could not record the membership.
        """
        await self._membership().join(group)

    async def leave(self, group: str) -> None:
        """Take this connection out of ``group``; nothing happens if it was not in it."""
        await self._membership().leave(group)

    async def disconnect_user(
        self, user_id: UserId, *, code: int = KICKED_CLOSE_CODE, reason: str = KICKED_REASON
    ) -> None:
        """Close every connection of ``user_id`` in every process (this one too, if it is theirs).

        The clients do not reconnect after the default code (4409).

        Raises:
            ValueError: ``code`` is not 1000 or 3000-4999, or ``reason`` is over 123 bytes.
            DeliveryUnavailable: The delivery engine could not take the request.
        """
        await disconnect_user(user_id, delivery=self._membership().delivery, code=code, reason=reason)

    async def disconnect_connection(
        self, websocket_id: str, *, code: int = KICKED_CLOSE_CODE, reason: str = KICKED_REASON
    ) -> None:
        """Close the connection ``websocket_id``, wherever it lives.

        Raises:
            ValueError: ``code`` is not 1000 or 3000-4999, or ``reason`` is over 123 bytes.
            DeliveryUnavailable: The delivery engine could not take the request.
        """
        await disconnect_connection(
            websocket_id, delivery=self._membership().delivery, code=code, reason=reason
        )

    def _membership(self) -> GroupMembership:
        if self.membership is None:
            raise RuntimeError("this ActionContext belongs to no connection, so it has no groups")
        return self.membership


def _check_user_id(user_id: object) -> None:
    # bool is an int subclass; True must not pass for user 1.
    if isinstance(user_id, bool) or not isinstance(user_id, int | str | UUID):
        raise TypeError(f"user_id must be a positive int, a string or a UUID, got {type(user_id).__name__}")
    if isinstance(user_id, int) and user_id < 1:
        raise ValueError(f"user_id must be a positive integer, got {user_id}")
    if isinstance(user_id, str) and not user_id.strip():
        raise ValueError("user_id must not be blank")


PayloadT = TypeVar("PayloadT", bound=BaseModel | dict[str, JsonValue], default=dict[str, JsonValue])


class Action(Generic[PayloadT], metaclass=ActionRegistryMeta):
    """Base class for typed actions: ``class Greet(Action[Greeting], name="greet")``.

    The model given as the type argument is :attr:`payload_model`. The dispatcher validates each
    request's payload against it before the action runs; a payload that does not fit is answered
    with ``invalid_action_payload`` (422) listing each wrong field, and the action never sees it.
    Without a type argument the payload arrives as the JSON object it was.
    """

    __register__ = False

    payload_model: ClassVar[type[BaseModel] | None] = None
    """The payload's model, taken from the type argument; ``None`` for an untyped action."""
    action_timeout: ClassVar[float | None] = None
    """Seconds a request may run (the ``timeout=`` class keyword); ``None``: the settings' default."""
    action_problems: ClassVar[tuple[type[WebSocketProblem], ...]] = ()
    """The problem classes the action may end with (the ``raises=`` class keyword), for the contract."""
    action_rate_limit: ClassVar[RateLimit | None] = None
    """How often one connection may ask for this action (the ``rate_limit=`` class keyword)."""
    action_user_rate_limit: ClassVar[RateLimit | None] = None
    """How often one user may, on all its connections (the ``user_rate_limit=`` class keyword)."""

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        for base in getattr(cls, "__orig_bases__", ()):
            if get_origin(base) is Action:
                (argument,) = get_args(base)
                if isinstance(argument, type) and issubclass(argument, BaseModel):
                    cls.payload_model = argument

    def execute(
        self, message: ActionMessage[PayloadT], context: ActionContext
    ) -> AsyncIterator[EventPluginProtocol]:
        """Yield the events that answer ``message``; subclasses implement it as an async generator."""
        raise NotImplementedError(f"{type(self).__name__} must implement execute()")


# The built-in ``health`` action registers where its registry lives.
from beeflow_websocket.core.actions import health as _health  # noqa: E402, F401
