"""Every exception Beeflow WebSocket raises, in one tree.

Errors are split by blame. Registry errors are the programmer's and surface at import or definition
time; problems travel to the client as RFC 9457 Problem Details frames and carry their own wire mapping
(status, code, slug, title), so the dispatcher renders any of them without a lookup table::

    BeeflowWebSocketError
    ├── RegistryError                      a plugin class is defined or looked up wrongly
    │   ├── DuplicateRegistrationError     two classes claim one name
    │   ├── ReservedNameError              an application class takes a ``beeflow.`` name
    │   ├── ActionDoesNotExist             (also KeyError)
    │   ├── EventDoesNotExist              (also KeyError)
    │   └── RecipientMapDoesNotExist       (also KeyError)
    └── WebSocketProblem                   becomes a Problem Details frame (beeflow_websocket.core.problems)
        ├── ClientProblem                  4xx: the client sent something wrong
        │   ├── InvalidMessage             400 invalid_websocket_message
        │   ├── MessageTooLarge            413 message_too_large
        │   ├── UnknownAction              400 unknown_websocket_action
        │   ├── InvalidActionPayload       422 invalid_action_payload
        │   └── InvalidGroupName           422 invalid_group_name
        └── ServerProblem                  5xx: the server could not do it
            ├── InternalError              500 internal_error
            └── DeliveryUnavailable        503 delivery_unavailable

``WebSocketProblem`` and its subclasses live in :mod:`beeflow_websocket.core.problems`; applications raise
``WebSocketProblem`` (or a subclass of their own) from an action to answer with a domain error.
"""

from __future__ import annotations

__all__ = [
    "ActionDoesNotExist",
    "BeeflowWebSocketError",
    "DuplicateRegistrationError",
    "EventDoesNotExist",
    "RecipientMapDoesNotExist",
    "RegistryError",
    "ReservedNameError",
]


class BeeflowWebSocketError(Exception):
    """Base class of every exception raised by Beeflow WebSocket."""


class RegistryError(BeeflowWebSocketError):
    """A plugin class (action, event, recipient) is defined or looked up wrongly."""


class DuplicateRegistrationError(RegistryError):
    """A second class claims a name that another class already holds.

    Pass ``replace=True`` in the class keywords to take the name over on purpose.
    """


class ReservedNameError(RegistryError):
    """An application class takes a name under ``beeflow.``, which the protocol keeps for itself.

    The library's own actions, events and recipients (``beeflow.cancel``, ``beeflow.complete``, ...)
    live there, so that no application name can shadow one, today or in a later release.
    """


class _MissingName(RegistryError, KeyError):
    """A name is not registered.

    It is a ``KeyError`` too, so registries behave as mappings (``in``, ``.get()``), while its message
    reads as a sentence rather than KeyError's quoted repr.
    """

    kind = "plugin"

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name

    def __str__(self) -> str:
        return f"no {self.kind} is registered under the name {self.name!r}"


class ActionDoesNotExist(_MissingName):
    """No action class is registered under the requested name."""

    kind = "action"


class EventDoesNotExist(_MissingName):
    """No event class is registered under the requested name."""

    kind = "event"


class RecipientMapDoesNotExist(_MissingName):
    """No recipient resolver is registered under the event's ``recipient`` name."""

    kind = "recipient"
