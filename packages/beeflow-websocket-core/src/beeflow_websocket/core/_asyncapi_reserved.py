"""The protocol's own vocabulary as the contract states it: reserved actions, own events, close codes.

What the protocol itself adds to every application's contract, kept apart from the builder that
walks the registries (:mod:`beeflow_websocket.core.asyncapi`): the texts and payload schemas of
``beeflow.cancel``, ``beeflow.ping``, ``beeflow.refresh`` and ``beeflow.resume``, the events the
protocol sends of itself, the stream position that v1 events carry, and the close codes.
"""

from __future__ import annotations

from typing import Final

from beeflow_websocket.core._streams import RESYNC_CLOSE_CODE
from beeflow_websocket.core.guardrails.expiry import EXPIRING_EVENT, TOKEN_EXPIRED_CLOSE_CODE
from beeflow_websocket.core.guardrails.kick import KICKED_CLOSE_CODE
from beeflow_websocket.core.guardrails.limiter import RATE_LIMITED_CLOSE_CODE
from beeflow_websocket.core.protocol import COMPLETE_EVENT
from beeflow_websocket.core.transport import IDLE_CLOSE_CODE, SLOW_CONSUMER_CLOSE_CODE

__all__ = [
    "CANCEL_DOC",
    "CLOSE_CODES",
    "PING_DOC",
    "POSITION",
    "REFRESH_DOC",
    "RESERVED_EVENTS",
    "RESUMED",
    "RESUMED_DOC",
    "RESUME_DOC",
    "RESUME_PAYLOAD",
    "STREAM",
]

CLOSE_CODES: Final = {
    str(SLOW_CONSUMER_CLOSE_CODE): {
        "reconnect": True,
        "description": "Nothing could be written to the client for slow_consumer_timeout: it is not reading.",
    },
    str(IDLE_CLOSE_CODE): {
        "reconnect": True,
        "description": "The client sent nothing for idle_timeout; any frame, beeflow.ping too, counts.",
    },
    str(KICKED_CLOSE_CODE): {
        "reconnect": False,
        "description": "The application disconnected the user, or this connection; do not reconnect.",
    },
    str(TOKEN_EXPIRED_CLOSE_CODE): {
        "reconnect": True,
        "description": "The connection's credentials expired and were not refreshed (beeflow.refresh); "
        "connect again with a fresh token.",
    },
    str(RESYNC_CLOSE_CODE): {
        "reconnect": True,
        "description": "The connection missed events of a stream that can no longer be sent to it; "
        "reconnect and send beeflow.resume with the last position of each stream.",
    },
    str(RATE_LIMITED_CLOSE_CODE): {
        "reconnect": True,
        "description": "The client went on asking past rate_limit_budget refusals (429 rate_limited); "
        "reconnect after a while.",
    },
}
"""The close codes the server closes a connection with, and whether a client should connect again."""
RESERVED_EVENTS: Final = (
    (
        COMPLETE_EVENT,
        "events",
        "integer",
        "The request's event frames this connection received before this one.",
        "Protocol v1: ends a request whose last event was written before its action ended, or that "
        "yielded none; always final: true.",
    ),
    (
        EXPIRING_EVENT,
        "expires_in",
        "number",
        "Seconds until the connection's credentials expire.",
        "Protocol v1: the connection's credentials expire soon; answer with beeflow.refresh and a "
        "fresh token, or the connection is closed with 4440 once they have expired (and a grace).",
    ),
)
"""The protocol's own events: name, payload member, its JSON type, what it means, the message's text."""
CANCEL_DOC: Final = """Protocol v1: stop a running request of this connection.

Its action is stopped where it waits (its finally blocks run) and it ends with request_cancelled.
The cancel itself ends with beeflow.complete, or unknown_request when no such request is running."""
REFRESH_DOC: Final = """Protocol v1: renew this connection's credentials with a fresh token.

Sent when the server's beeflow.token_expiring event (payload {"expires_in": seconds}) says they
expire soon. The application checks the token as it checked the first: beeflow.complete when it
names the same user, token_refused otherwise. A connection not refreshed by its expiry and a grace
period is closed with 4440."""
POSITION: Final = {
    "name": {"type": "string", "description": "The stream: ~user:<id> for a user's, else the group's name."},
    "epoch": {"type": "string", "description": "Changes whenever the stream's history is lost."},
    "offset": {"type": "integer", "minimum": 0, "description": "The event's number in the stream."},
}
STREAM: Final = {
    "type": "object",
    "required": ["name", "epoch", "offset"],
    "properties": POSITION,
    "description": (
        "Protocol v1, when the stream the event was sent to keeps a history (history_size): its place "
        "there. Offsets of one stream follow each other without gaps; a client keeps the last one of "
        "each stream to send in beeflow.resume when it reconnects."
    ),
}
RESUME_PAYLOAD: Final = {
    "type": "object",
    "required": ["streams"],
    "properties": {
        "streams": {
            "type": "array",
            "maxItems": 100,
            "items": {
                "type": "object",
                "required": ["name", "epoch", "offset"],
                "properties": POSITION,
                "additionalProperties": False,
            },
            "description": "The last position the client received of each stream it follows.",
        }
    },
    "additionalProperties": False,
}
RESUMED: Final = {
    "type": "object",
    "required": ["stream", "epoch", "offset", "replayed"],
    "properties": {
        "stream": POSITION["name"],
        "epoch": POSITION["epoch"],
        "offset": {"type": "integer", "minimum": 0, "description": "The stream's last offset now."},
        "replayed": {"type": "integer", "minimum": 0, "description": "How many missed events came before."},
    },
}
RESUMED_DOC: Final = """Protocol v1: a stream of a beeflow.resume is recovered whole.

The events it missed came just before, in offset order, each with its stream position."""
RESUME_DOC: Final = """Protocol v1: replay what each stream sent after the client's last position.

Sent first on a new connection by a client that had one. Each stream the connection is in now (its
user's; the groups it has joined) is recovered whole: its missed events, then beeflow.resumed. A
stream that cannot be (its history was lost or expired, or the connection is not in it) is listed
in the unrecoverable_position problem that ends the request, and the client reloads what it shows;
else the request ends with beeflow.complete."""
PING_DOC: Final = """Protocol v1: answered at once with beeflow.complete.

A heartbeat for clients that cannot see WebSocket pings, such as browsers."""
