"""The subprotocol a Flask-Sock handshake selects, made the same as on every other adapter.

simple-websocket selects the first subprotocol of the client's offer that is "in" the server's
``subprotocols`` option, so with a plain list the client's order decides: an offer of
``["access-token", token, "beeflow.v1"]`` would select ``access-token`` and leave the client unsure
which protocol it speaks. The option is given a :class:`NegotiatedSubprotocols` instead, which
contains, for the handshake in progress, only what
:func:`~beeflow_websocket.core.negotiation.selected_subprotocol` selects (or, when that is nothing,
the application's own subprotocols).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from flask import has_request_context, request

from beeflow_websocket.core.access_token import ACCESS_TOKEN_SUBPROTOCOL, split_subprotocol_header
from beeflow_websocket.core.negotiation import PROTOCOL_V1_SUBPROTOCOL, selected_subprotocol

__all__ = ["NegotiatedSubprotocols"]


class NegotiatedSubprotocols:
    """The ``subprotocols`` option of simple-websocket's server, answering for the current handshake.

    Args:
        extra: Subprotocols the application configured itself; selected as simple-websocket would
            when the client offers neither ``beeflow.v1`` nor ``access-token``.
    """

    def __init__(self, extra: Iterable[str] = ()) -> None:
        ours = (PROTOCOL_V1_SUBPROTOCOL, ACCESS_TOKEN_SUBPROTOCOL)
        self.extra = tuple(name for name in extra if name not in ours)

    def __contains__(self, name: object) -> bool:
        offered = (
            split_subprotocol_header(request.headers.get("Sec-WebSocket-Protocol"))
            if has_request_context()
            else []
        )
        chosen = selected_subprotocol(offered)
        if chosen is not None:
            return name == chosen
        return name in self.extra

    def __iter__(self) -> Iterator[str]:
        yield PROTOCOL_V1_SUBPROTOCOL
        yield ACCESS_TOKEN_SUBPROTOCOL
        yield from self.extra

    def __bool__(self) -> bool:
        return True

    def __repr__(self) -> str:
        return f"NegotiatedSubprotocols({list(self)!r})"
