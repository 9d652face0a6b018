"""Disconnecting a user everywhere, or one connection, from an action, a view, a task or another process.

A kick travels the way an event to the same recipient would: a user's connections form a group in
every process, so :func:`disconnect_user` asks the delivery engine to close that group, and each
process closes its own members. The close code defaults to :data:`KICKED_CLOSE_CODE`, which both
clients treat as final: they do not reconnect by themselves.

A kicked connection is closed at once: frames still waiting to be written to it are dropped, as on
any server-side close. An application that wants the client to know why says it in ``reason``
(what a browser shows as ``CloseEvent.reason``). When the user's stream keeps a history, the kick
leaves a mark in it, and a resume from a position before it is refused (``kicked``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from beeflow_websocket.core.groups import user_group
from beeflow_websocket.core.history.store import history_of

if TYPE_CHECKING:
    from beeflow_websocket.core.transport import Delivery

__all__ = ["KICKED_CLOSE_CODE", "KICKED_REASON", "checked_close", "disconnect_connection", "disconnect_user"]

KICKED_CLOSE_CODE: Final = 4409
"""Close code of a connection the application disconnected (4000 + HTTP 409, conflict): final."""

KICKED_REASON: Final = "disconnected by the server"
"""The close reason when the application gives none."""

_MAX_REASON_BYTES: Final = 123
"""A close frame's payload is at most 125 bytes, two of which are the code (RFC 6455, 5.5)."""


def checked_close(code: int, reason: str) -> tuple[int, str]:
    """Return ``(code, reason)`` if a server may close a connection with them.

    Raises:
        ValueError: ``code`` is neither 1000 nor in 3000-4999 (the codes an application may send),
            or ``reason`` is longer than 123 bytes in UTF-8.
    """
    if isinstance(code, bool) or not isinstance(code, int) or not (code == 1000 or 3000 <= code <= 4999):
        raise ValueError(f"close code {code!r} cannot be sent by an application: use 1000 or 3000-4999")
    if len(reason.encode()) > _MAX_REASON_BYTES:
        raise ValueError(f"a close reason is at most {_MAX_REASON_BYTES} bytes in UTF-8, got {reason!r}")
    return code, reason


async def disconnect_user(
    user_id: object, *, delivery: Delivery, code: int = KICKED_CLOSE_CODE, reason: str = KICKED_REASON
) -> None:
    """Close every connection of ``user_id``, in every process ``delivery`` reaches.

    Raises:
        ValueError: See :func:`checked_close`.
        DeliveryUnavailable: The engine could not take the request (Redis is down).
    """
    code, reason = checked_close(code, reason)
    stream = user_group(user_id)
    history = history_of(delivery)
    if history is not None and history.policy.keeps(stream):
        await history.mark(stream)  # a resume from before the kick is refused: the session is over
    await delivery.close_group(stream, code, reason)


async def disconnect_connection(
    websocket_id: str, *, delivery: Delivery, code: int = KICKED_CLOSE_CODE, reason: str = KICKED_REASON
) -> None:
    """Close the connection ``websocket_id`` (``context.websocket_id``), wherever it lives.

    Raises:
        ValueError: See :func:`checked_close`.
        DeliveryUnavailable: The engine could not take the request (Redis is down).
    """
    code, reason = checked_close(code, reason)
    await delivery.close_connections((websocket_id,), code, reason)
