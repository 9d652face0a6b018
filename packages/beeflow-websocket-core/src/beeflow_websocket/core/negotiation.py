"""Which protocol a connection speaks, decided once in the handshake from the offered subprotocols.

A client that offers the subprotocol ``beeflow.v1`` (alone, or beside ``access-token`` and its token)
speaks protocol v1: every request ends with exactly one frame marked ``"final": true``, and the
reserved actions ``beeflow.cancel`` and ``beeflow.ping`` are understood. A client that offers no
``beeflow.v1`` (every 0.3.0 client) speaks protocol 0 and receives the frames it always did.

Every adapter selects the same subprotocol for the same offer, whatever its order: ``beeflow.v1``
when offered, else the ``access-token`` marker when offered, else none. The token itself is never
selected, since the selected subprotocol is echoed in the handshake response.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, Literal

from beeflow_websocket.core.access_token import ACCESS_TOKEN_SUBPROTOCOL

__all__ = ["PROTOCOL_V1_SUBPROTOCOL", "ProtocolVersion", "negotiated_version", "selected_subprotocol"]

PROTOCOL_V1_SUBPROTOCOL: Final = "beeflow.v1"
"""The subprotocol a client offers to speak protocol v1."""

type ProtocolVersion = Literal[0, 1]
"""0: the frames of 0.3.0; 1: terminal frames, cancel and ping (see docs/en/protocol-v1.md)."""


def negotiated_version(subprotocols: Sequence[str]) -> ProtocolVersion:
    """The protocol a connection speaks: 1 when the client offered ``beeflow.v1``, else 0."""
    return 1 if PROTOCOL_V1_SUBPROTOCOL in subprotocols else 0


def selected_subprotocol(subprotocols: Sequence[str]) -> str | None:
    """The subprotocol the handshake selects: ``beeflow.v1``, else ``access-token``, else none.

    Never the token itself, which would echo it back in the handshake response.
    """
    if PROTOCOL_V1_SUBPROTOCOL in subprotocols:
        return PROTOCOL_V1_SUBPROTOCOL
    return ACCESS_TOKEN_SUBPROTOCOL if ACCESS_TOKEN_SUBPROTOCOL in subprotocols else None
