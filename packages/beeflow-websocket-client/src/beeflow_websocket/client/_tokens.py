"""Where each connection attempt's token comes from.

A fixed one, or one call of the application's source at a time, shared by all who ask while it runs
(a refresh is never asked for twice at once).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from beeflow_websocket.client.errors import Unauthorized

__all__ = ["GetToken", "Tokens"]

type GetToken = Callable[[], Awaitable[str | None]]


class Tokens:
    """A fixed token, or a source called afresh for every attempt.

    Args:
        token: A fixed token; ``None`` with no source: connect without one.
        get_token: The application's source; ``None`` from it means there is no user.
    """

    __slots__ = ("_fetch", "_get_token", "_token")

    def __init__(self, token: str | None, get_token: GetToken | None) -> None:
        if token is not None and get_token is not None:
            raise ValueError("pass token or get_token, not both")
        self._token = token
        self._get_token = get_token
        self._fetch: asyncio.Future[str | None] | None = None

    @property
    def renewable(self) -> bool:
        """Whether a fresh token can be asked for: there is a source (a fixed token stays the same)."""
        return self._get_token is not None

    async def fresh(self) -> str | None:
        """The token for the next attempt.

        Raises:
            Unauthorized: The source has no user (it returned ``None``, or raised it).
        """
        if self._get_token is None:
            return self._token
        if self._fetch is None:
            self._fetch = asyncio.ensure_future(self._get_token())
        fetch = self._fetch
        try:
            token = await asyncio.shield(fetch)
        finally:
            if fetch.done():
                self._fetch = None
        if token is None:
            raise Unauthorized("the token source has no user")
        return token
