"""Problem Details (RFC 9457): the one shape every error frame has.

An error is an exception that knows its own wire mapping. The dispatcher catches a
:class:`WebSocketProblem`, adds what only the connection knows (the request's ``req_id``, the
connection path as ``instance``, a fresh ``msg_id``) and sends it. An action answers with a domain
error by raising a ``WebSocketProblem`` of its own::

    raise WebSocketProblem(
        status=409,
        code="seat_taken",
        title="Seat already taken",
        detail="Seat 12A was booked by someone else.",
        extensions={"seat": "12A"},
    )

The ``type`` member is ``<problem_type_base_url>/<slug>`` when a base URL is configured, and
``about:blank`` otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, Final, Literal

from pydantic import JsonValue

from beeflow_websocket.core.exceptions import BeeflowWebSocketError

__all__ = [
    "ABOUT_BLANK",
    "RESERVED_MEMBERS",
    "ActionTimeout",
    "BuiltinProblemCode",
    "ClientProblem",
    "DeliveryUnavailable",
    "DuplicateRequest",
    "InternalError",
    "InvalidActionPayload",
    "InvalidGroupName",
    "InvalidMessage",
    "MessageTooLarge",
    "RateLimited",
    "RequestCancelled",
    "ServerProblem",
    "TokenRefused",
    "UnknownAction",
    "UnknownRequest",
    "UnrecoverablePosition",
    "WebSocketProblem",
    "problem_type",
]

ABOUT_BLANK: Final = "about:blank"

BuiltinProblemCode = Literal[
    "invalid_websocket_message",
    "message_too_large",
    "unknown_websocket_action",
    "invalid_action_payload",
    "invalid_group_name",
    "internal_error",
    "delivery_unavailable",
    "request_cancelled",
    "unknown_request",
    "action_timeout",
    "rate_limited",
    "token_refused",
    "unrecoverable_position",
    "duplicate_request",
]
"""The codes the library itself answers with; each has a section in docs/en/errors.md."""

RESERVED_MEMBERS: Final = frozenset(
    {"msg_id", "req_id", "final", "type", "title", "status", "detail", "code", "instance"}
)
"""Members of the error frame that extension members may not overwrite."""


def problem_type(base_url: str | None, slug: str) -> str:
    """Return the ``type`` URI for a problem slug: ``<base_url>/<slug>``, or ``about:blank``."""
    if not base_url:
        return ABOUT_BLANK
    return f"{base_url.rstrip('/')}/{slug}"


class WebSocketProblem(BeeflowWebSocketError):
    """An error that is answered with a Problem Details frame.

    Subclasses set the class attributes as defaults; instances may override any of them. Extension
    members (RFC 9457 section 3.2) are JSON values sent beside the standard members.

    Args:
        detail: Human-readable explanation of this occurrence; defaults to the class's ``detail``.
        status: HTTP-like status code; defaults to the class's ``status``.
        code: Stable machine-readable code clients branch on.
        title: Short summary of the problem type; the same for every occurrence of one code.
        slug: Last path segment of ``type``; defaults to ``code`` with ``_`` turned into ``-``.
        extensions: Extra members for the frame; names of standard members are refused.
    """

    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"
    title: ClassVar[str] = "Internal server error"
    detail: ClassVar[str] = "The server could not complete the action."
    slug: ClassVar[str | None] = None

    def __init__(
        self,
        detail: str | None = None,
        *,
        status: int | None = None,
        code: str | None = None,
        title: str | None = None,
        slug: str | None = None,
        extensions: Mapping[str, JsonValue] | None = None,
    ) -> None:
        # Instance attributes shadow the class defaults; mypy sees the ClassVar declarations, so
        # the per-instance values are stored through __dict__.
        values = {"status": status, "code": code, "title": title, "detail": detail, "slug": slug}
        for name, value in values.items():
            if value is not None:
                self.__dict__[name] = value
        if not 100 <= self.status <= 599:
            raise ValueError(f"a problem status must be an HTTP status code, got {self.status}")
        clashing = RESERVED_MEMBERS.intersection(extensions or ())
        if clashing:
            raise ValueError(f"extension members may not replace standard members: {sorted(clashing)}")
        self.extensions: dict[str, JsonValue] = dict(extensions or {})
        super().__init__(self.detail)

    @property
    def type_slug(self) -> str:
        """The last path segment of the ``type`` URI."""
        return self.slug or self.code.replace("_", "-")


class ClientProblem(WebSocketProblem):
    """The client sent something the server will not act on (a 4xx problem)."""

    status = 400
    code = "bad_request"
    title = "Bad request"
    detail = "The server will not act on this message."


class ServerProblem(WebSocketProblem):
    """The server could not act on a valid message (a 5xx problem)."""


class InvalidMessage(ClientProblem):
    """The frame is not a valid action envelope (not JSON, not an object, or a field is wrong)."""

    code = "invalid_websocket_message"
    slug = "invalid-message"
    title = "Invalid WebSocket message"
    detail = "The message is not a valid action envelope."


class MessageTooLarge(ClientProblem):
    """The frame is larger than the connection accepts; it was not parsed."""

    status = 413
    code = "message_too_large"
    title = "WebSocket message too large"
    detail = "The message is larger than the server accepts."


class UnknownAction(ClientProblem):
    """The envelope names an action that no class is registered for."""

    code = "unknown_websocket_action"
    slug = "unknown-action"
    title = "Unknown WebSocket action"
    detail = "No action is registered under this name."


class InvalidActionPayload(ClientProblem):
    """The payload does not satisfy the action's declared model; the action did not run.

    The ``errors`` extension member lists each wrong field: its path (``loc``), a message
    (``msg``) and pydantic's error type (``type``).
    """

    status = 422
    code = "invalid_action_payload"
    title = "Invalid action payload"
    detail = "The payload does not match what the action expects."


class InvalidGroupName(ClientProblem):
    """An action asked to join, leave or address a group under a name that is not allowed."""

    status = 422
    code = "invalid_group_name"
    title = "Invalid group name"
    detail = "Group names are 1 to 100 characters from A-Z, a-z, 0-9 and . _ : -"


class InternalError(ServerProblem):
    """An action failed, or produced something that cannot be delivered.

    The frame never carries the exception text; the exception is logged on the server instead.
    """


class DeliveryUnavailable(ServerProblem):
    """An event could not be handed to the delivery engine (its Redis or channel layer is down).

    Sent to the connection whose action produced the event; the action itself goes on, and delivery
    resumes by itself once the engine is reachable again.
    """

    status = 503
    code = "delivery_unavailable"
    title = "Event delivery unavailable"
    detail = "An event could not be handed over for delivery to other connections."


class RequestCancelled(ClientProblem):
    """The client cancelled the request with ``beeflow.cancel`` (protocol v1): it ends with this frame.

    499 is the status HTTP servers and gateways log for a request its client gave up on.
    """

    status = 499
    code = "request_cancelled"
    title = "Request cancelled"
    detail = "The request was cancelled by the client."


class UnknownRequest(ClientProblem):
    """``beeflow.cancel`` named a request that is not running on this connection (protocol v1).

    It may have ended already: its terminal frame was sent, or is on its way.
    """

    status = 404
    code = "unknown_request"
    title = "Unknown request"
    detail = "No request with this req_id is running on this connection."


class RateLimited(ClientProblem):
    """The request came faster than a rate limit allows; it was not run.

    Its extension members say when to try again and which limit refused it: ``retry_after``
    (seconds, to the millisecond), ``limit`` (such as ``"10/1s"``) and ``scope`` (``"connection"``
    or ``"user"``: the user's limit counts the requests of all its connections, on every process).
    """

    status = 429
    code = "rate_limited"
    title = "Too many requests"
    detail = "The request was not run: it came faster than the rate limit allows."


class TokenRefused(ClientProblem):
    """v1: ``beeflow.refresh`` brought a token that does not renew this connection's credentials.

    It names nobody, or another user, or the connection has no way to check one; ``detail`` says
    which. Nothing changes: the credentials still expire when they did.
    """

    status = 401
    code = "token_refused"
    title = "Token refused"
    detail = "The token does not renew this connection's credentials."


class UnrecoverablePosition(ClientProblem):
    """v1: ``beeflow.resume`` named streams whose missed events cannot all be replayed.

    The extension member ``streams`` lists each one as ``{"name", "epoch", "offset", "reason"}``:
    the stream's position now, from which the client goes on once it has reloaded what the stream
    shows, and why (``epoch_changed``: its history was lost; ``expired``: events after the position
    are no longer kept; ``ahead``: the position was never reached; ``kicked``: the application
    disconnected the user since, ending the session; ``not_a_member``: this connection
    is not in the stream; ``no_history``: the stream keeps none). A stream is recovered whole or
    listed here, never in part; the other streams of the request were recovered.
    """

    status = 409
    code = "unrecoverable_position"
    title = "Unrecoverable stream position"
    detail = "Events missed on some streams cannot be replayed: reload what they show."


class ActionTimeout(ServerProblem):
    """The action ran past its time limit; it was stopped as on a cancel and the request ends here."""

    status = 504
    code = "action_timeout"
    title = "Action timed out"
    detail = "The action did not finish within its time limit."


class DuplicateRequest(ClientProblem):
    """v1: a request whose ``msg_id`` was already run within ``retry_window``; it was not run again.

    A client sends a request again, unchanged, when its connection went before the answer came; the
    extension member ``outcome`` says what became of the first: ``running`` (it still runs, or its
    process died), ``completed``, ``failed`` (it ended with a problem: an error, a cancel, a time
    limit) or ``interrupted`` (its connection went while it ran: it may have done part of its work).
    The events the first sent to its own connection are not sent again.
    """

    status = 409
    code = "duplicate_request"
    title = "Request already made"
    detail = "A request with this msg_id was already run: it was not run again."
