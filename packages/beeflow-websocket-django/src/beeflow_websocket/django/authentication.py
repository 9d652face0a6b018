"""Authenticate a WebSocket with the access token offered as a subprotocol.

A browser client sends the public marker and then the token::

    new WebSocket("wss://example.com/ws/", ["access-token", accessToken]);

:class:`AccessTokenAuthMiddleware` hands the token to the project's resolver and puts the user it
returns in ``scope["user"]``; the consumer then accepts or refuses the connection. The handshake
selects only the marker, so the token is never echoed; it is removed from the scope the inner
application sees, and it never appears in a log record.
"""

from __future__ import annotations

import inspect
import logging
import traceback
from collections.abc import Awaitable, Callable
from typing import Any, Final

from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from django.apps import apps
from django.utils.functional import LazyObject

from beeflow_websocket.core.access_token import read_access_token
from beeflow_websocket.core.action_registry import UserId
from beeflow_websocket.core.guardrails.expiry import Expiry

__all__ = [
    "EXPIRES_AT_SCOPE_KEY",
    "REFRESH_SCOPE_KEY",
    "AccessTokenAuthMiddleware",
    "AnonymousWebSocketUser",
    "UserResolver",
    "anonymous_user",
]

logger: Final = logging.getLogger(__name__)

type UserResolver = Callable[[str], object] | Callable[[str], Awaitable[object]]
"""Turns a token into a user (or ``None``), or into ``(user, expires_at)`` when the token expires;
synchronous or asynchronous."""

EXPIRES_AT_SCOPE_KEY: Final = "beeflow.expires_at"
"""Where the middleware leaves when the token expires, for the consumer."""

REFRESH_SCOPE_KEY: Final = "beeflow.refresh"
"""Where it leaves the check of a fresh token (``beeflow.refresh``): the same resolver."""

type ASGIApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


class AccessTokenAuthMiddleware(BaseMiddleware):  # type: ignore[misc]
    """Populate ``scope["user"]`` from the token that follows the ``access-token`` subprotocol.

    Args:
        app: The inner ASGI application, usually a ``URLRouter``.
        user_resolver: Validates the token and returns the user, or ``None``. An asynchronous resolver
            is awaited; a synchronous one runs through Channels' ``database_sync_to_async``, so Django
            ORM lookups do not run on the event loop.

    A resolver may return ``(user, expires_at)`` (an aware ``datetime`` or seconds since the epoch):
    the connection is then held to that expiry, and a fresh token the client sends with
    ``beeflow.refresh`` goes through the same resolver (see docs/en/token-expiry.md).

    A resolver that returns ``None`` or a user that is not authenticated gives an anonymous user,
    which the bundled consumer refuses. A resolver that raises is logged (with the token redacted)
    and also gives an anonymous user: the connection is refused, the server lives.

    Without a token, the middleware leaves a user that an outer middleware set alone, so it stacks
    with Channels' ``AuthMiddlewareStack`` in either order and either a session cookie or a token
    authenticates (a token wins when both are offered). With no user set at all, it sets one that is
    anonymous unless Channels' ``AuthMiddleware`` further in resolves the session into it, as that
    middleware does with its own lazy user. The anonymous user is Django's ``AnonymousUser`` when
    ``django.contrib.auth`` is installed, else :class:`AnonymousWebSocketUser`: a site without the
    auth app (the minimal site 0.3.0 served) works too.
    """

    def __init__(self, app: ASGIApp, user_resolver: UserResolver) -> None:
        super().__init__(app)
        if not callable(user_resolver):
            raise TypeError(f"user_resolver must be callable, got {type(user_resolver).__name__}")
        self.user_resolver = user_resolver
        self._resolve: Callable[[str], Awaitable[object]] = (
            user_resolver if _is_async(user_resolver) else database_sync_to_async(user_resolver)  # type: ignore[assignment]
        )

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Resolve the user, then run the inner application with a copy of the scope."""
        # Copy the scope before changing it, so nothing leaks upstream.
        scope = dict(scope)
        subprotocols = list(scope.get("subprotocols") or ())
        token = read_access_token(subprotocols)
        if token is not None:
            scope["subprotocols"] = [offered for offered in subprotocols if offered != token]
            scope["user"], expires_at = await self._user_for(token)
            if expires_at is not None:
                scope[EXPIRES_AT_SCOPE_KEY] = expires_at
            scope[REFRESH_SCOPE_KEY] = self._refresh
        elif "user" not in scope:
            scope["user"] = _ScopeUser()
        await super().__call__(scope, receive, send)

    async def _user_for(self, token: str) -> tuple[object, Expiry]:
        try:
            resolved = await self._resolve(token)
        except Exception as error:
            details = "".join(traceback.format_exception(error)).replace(token, "[redacted]")
            logger.error("the access-token resolver raised; the connection is refused\n%s", details)
            return anonymous_user(), None
        user, expires_at = resolved if isinstance(resolved, tuple) else (resolved, None)
        if user is None or not getattr(user, "is_authenticated", False):
            return anonymous_user(), None
        return user, expires_at

    async def _refresh(self, token: str) -> tuple[UserId, Expiry] | None:
        """A fresh token through the same resolver: its user's id and expiry, or ``None``."""
        user, expires_at = await self._user_for(token)
        user_id = getattr(user, "id", None)
        return None if user_id is None else (user_id, expires_at)


class AnonymousWebSocketUser:
    """Nobody: the anonymous user of a site without ``django.contrib.auth``."""

    id = None
    pk = None
    is_authenticated = False
    is_anonymous = True

    def __repr__(self) -> str:
        return "AnonymousWebSocketUser()"


def anonymous_user() -> object:
    """Django's ``AnonymousUser`` when the auth app is installed, else :class:`AnonymousWebSocketUser`.

    Django's class may only be imported with ``django.contrib.auth`` (and ``contenttypes``)
    installed: importing it elsewhere raises at the first handshake.
    """
    if apps.is_installed("django.contrib.auth"):
        from django.contrib.auth.models import AnonymousUser

        return AnonymousUser()
    return AnonymousWebSocketUser()


class _ScopeUser(LazyObject):  # type: ignore[type-arg]  # generic in the stubs only
    """``scope["user"]`` when no token was offered: anonymous until something resolves a user into it.

    Channels' ``AuthMiddleware`` further in resolves the session user by assigning ``_wrapped``, as it
    does on its own lazy user, so a session cookie still authenticates behind this middleware.
    """

    def _setup(self) -> None:
        self._wrapped = anonymous_user()


def _is_async(resolver: Callable[..., object]) -> bool:
    return inspect.iscoroutinefunction(resolver) or inspect.iscoroutinefunction(
        getattr(resolver, "__call__", None)  # noqa: B004 - an object with an async __call__
    )
