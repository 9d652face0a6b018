"""The Django test site's ASGI application, following the published setup.

- ``/ws/``: the bundled routing behind ``AccessTokenAuthMiddleware`` with a synchronous ORM resolver;
- ``/async-token/ws/``: the consumer behind the same middleware with an asynchronous resolver;
- ``/api/ws/``: the consumer mounted at a custom path behind ``AuthMiddlewareStack`` (session cookie);
- ``/session-outer/ws/`` and ``/token-outer/ws/``: the two middlewares stacked, in each order, so that
  a session cookie or a token authenticates.
"""

import os
from typing import Any

from channels.auth import AuthMiddlewareStack
from channels.routing import ProtocolTypeRouter, URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from django.core.asgi import get_asgi_application
from django.urls import path

from beeflow_websocket.django.authentication import AccessTokenAuthMiddleware
from beeflow_websocket.django.consumer import WebSocketConsumer
from beeflow_websocket.django.routing import websocket_urlpatterns

# As in the published setup, the imports above come before Django is set up.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "djangosite.settings")

django_asgi_app = get_asgi_application()

from django.contrib.auth.models import User  # noqa: E402 - needs the app registry

from beeflow_websocket.core.guardrails.expiry import Expiry  # noqa: E402

from siteplugins.tokens import read_token  # noqa: E402


def user_id_of(token: str) -> int | None:
    """Tokens of the form user-<id>; anything else names nobody."""
    if token.startswith("user-") and token[5:].isdigit():
        return int(token[5:])
    return None


def get_user_for_access_token(token: str) -> User | tuple[User | None, Expiry] | None:
    """A synchronous resolver: a plain ORM lookup, run through database_sync_to_async.

    A token user-<id>~<seconds> expires that many seconds from now: the user comes with its expiry.
    """
    identity = read_token(token)
    if identity is None:
        return None
    user_id, expires_at = identity
    user = User.objects.filter(pk=user_id).first()
    return user if expires_at is None else (user, expires_at)


async def aget_user_for_access_token(token: str) -> User | None:
    """An asynchronous resolver."""
    return await User.objects.filter(pk=user_id_of(token)).afirst()


def seed_form(middleware: Any, routes: list[Any]) -> Any:
    """An application as the published setup writes it: origin check, authentication, URLRouter."""
    return AllowedHostsOriginValidator(middleware(URLRouter(routes)))


# /ws/: the published example, verbatim in shape: the bundled routing behind the token middleware.
token_application = seed_form(
    lambda inner: AccessTokenAuthMiddleware(inner, user_resolver=get_user_for_access_token),
    websocket_urlpatterns,
)
async_token_application = seed_form(
    lambda inner: AccessTokenAuthMiddleware(inner, user_resolver=aget_user_for_access_token),
    [path("async-token/ws/", WebSocketConsumer.as_asgi())],
)
# /api/ws/: the published custom-path example, behind session-cookie authentication.
session_application = seed_form(AuthMiddlewareStack, [path("api/ws/", WebSocketConsumer.as_asgi())])


session_outer_application = seed_form(
    lambda inner: AuthMiddlewareStack(
        AccessTokenAuthMiddleware(inner, user_resolver=get_user_for_access_token)
    ),
    [path("session-outer/ws/", WebSocketConsumer.as_asgi())],
)
token_outer_application = seed_form(
    lambda inner: AccessTokenAuthMiddleware(
        AuthMiddlewareStack(inner), user_resolver=get_user_for_access_token
    ),
    [path("token-outer/ws/", WebSocketConsumer.as_asgi())],
)


async def websocket_application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Pick one of the applications by path prefix."""
    if scope["path"].startswith("/session-outer/"):
        return await session_outer_application(scope, receive, send)
    if scope["path"].startswith("/token-outer/"):
        return await token_outer_application(scope, receive, send)
    if scope["path"].startswith("/async-token/"):
        return await async_token_application(scope, receive, send)
    if scope["path"].startswith("/api/"):
        return await session_application(scope, receive, send)
    return await token_application(scope, receive, send)


application = ProtocolTypeRouter({"http": django_asgi_app, "websocket": websocket_application})
