"""Access tokens offered as WebSocket subprotocols.

Browsers cannot set headers on a WebSocket handshake, and query strings leak into logs, so a browser
client sends its token as the subprotocol that follows a public marker::

    new WebSocket("wss://example.com/ws/", ["access-token", accessToken]);

The server selects only the marker, never the token, so the token is not echoed in the handshake
response. Every adapter reads the token the same way, with :func:`read_access_token`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

__all__ = [
    "ACCESS_TOKEN_SUBPROTOCOL",
    "read_access_token",
    "selected_subprotocol",
    "split_subprotocol_header",
]

ACCESS_TOKEN_SUBPROTOCOL: Final = "access-token"  # noqa: S105 - a public marker, not a secret
"""The public marker; the subprotocol after it is the token."""


def read_access_token(subprotocols: Sequence[str]) -> str | None:
    """Return the token that follows the ``access-token`` marker, or ``None`` when there is none.

    A marker with nothing after it, or followed by an empty string, gives ``None``.
    """
    try:
        position = list(subprotocols).index(ACCESS_TOKEN_SUBPROTOCOL)
    except ValueError:
        return None
    if position + 1 >= len(subprotocols):
        return None
    return subprotocols[position + 1] or None


def selected_subprotocol(subprotocols: Sequence[str]) -> str | None:
    """The subprotocol the handshake selects: ``beeflow.v1``, else the ``access-token`` marker, else none.

    Never the token itself, which would echo it back in the handshake response. Kept here for
    callers of 0.4.0; :mod:`beeflow_websocket.core.negotiation` decides.
    """
    from beeflow_websocket.core.negotiation import selected_subprotocol as negotiate

    return negotiate(subprotocols)


def split_subprotocol_header(header: str | None) -> list[str]:
    """Split a ``Sec-WebSocket-Protocol`` header value into the offered subprotocols."""
    if not header:
        return []
    return [item.strip() for item in header.split(",") if item.strip()]
