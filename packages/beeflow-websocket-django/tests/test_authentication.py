import logging
from datetime import UTC, datetime
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser, User
from django.urls import path

from beeflow_websocket.django.authentication import (
    EXPIRES_AT_SCOPE_KEY,
    REFRESH_SCOPE_KEY,
    AccessTokenAuthMiddleware,
)
from beeflow_websocket.django.consumer import WebSocketConsumer

# Channels closes stale database connections on every disconnect, so consumers touch the database.
pytestmark = [pytest.mark.anyio, pytest.mark.django_db(transaction=True)]

TOKEN = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXRva2Vu.sig"


class ScopeRecorder:
    """An inner application that keeps the scope it was called with, and refuses the connection."""

    def __init__(self) -> None:
        self.scope: dict[str, Any] = {}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.scope = scope
        await receive()
        await send({"type": "websocket.close"})


def consumer_app() -> Any:
    return URLRouter([path("ws/", WebSocketConsumer.as_asgi())])


async def connect(app: Any, subprotocols: list[str] | None) -> tuple[bool, str | None]:
    conversation = WebsocketCommunicator(app, "/ws/", subprotocols=subprotocols)
    connected, subprotocol = await conversation.connect()
    if connected:
        await conversation.disconnect()
    return connected, subprotocol


def sync_orm_resolver(token: str) -> User | None:
    return User.objects.filter(username=token.rpartition(".")[2]).first()


async def async_orm_resolver(token: str) -> User | None:
    return await User.objects.filter(username=token.rpartition(".")[2]).afirst()


@pytest.fixture
def user() -> User:
    return User.objects.create_user(username="sig", password="not-used")


@pytest.mark.parametrize("resolver", [sync_orm_resolver, async_orm_resolver], ids=["sync", "async"])
async def test_a_valid_token_authenticates_and_only_the_marker_is_selected(resolver: Any, user: User) -> None:
    recorder = ScopeRecorder()
    await connect(AccessTokenAuthMiddleware(recorder, user_resolver=resolver), ["access-token", TOKEN])

    assert recorder.scope["user"] == user
    assert recorder.scope["subprotocols"] == ["access-token"]
    connected, subprotocol = await connect(
        AccessTokenAuthMiddleware(consumer_app(), user_resolver=resolver), ["access-token", TOKEN]
    )
    assert (connected, subprotocol) == (True, "access-token")


async def test_an_object_with_an_async_call_is_awaited(user: User) -> None:
    class Resolver:
        async def __call__(self, token: str) -> User | None:
            return await async_orm_resolver(token)

    assert await connect(
        AccessTokenAuthMiddleware(consumer_app(), user_resolver=Resolver()), ["access-token", TOKEN]
    ) == (
        True,
        "access-token",
    )


@pytest.mark.parametrize(
    ("subprotocols", "resolved"),
    [
        (None, "never called"),
        (["access-token"], "never called"),
        (["access-token", TOKEN], None),
        (["access-token", TOKEN], AnonymousUser()),
    ],
    ids=["no-subprotocols", "no-token", "resolver-says-none", "unauthenticated"],
)
async def test_no_valid_user_gives_an_anonymous_user_and_the_consumer_refuses(
    subprotocols: list[str] | None, resolved: object
) -> None:
    calls: list[str] = []

    async def resolver(token: str) -> object:
        calls.append(token)
        return resolved

    recorder = ScopeRecorder()
    await connect(AccessTokenAuthMiddleware(recorder, user_resolver=resolver), subprotocols)
    refused = await connect(AccessTokenAuthMiddleware(consumer_app(), user_resolver=resolver), subprotocols)

    assert isinstance(recorder.scope["user"], AnonymousUser)
    assert refused[0] is False
    assert len(calls) == (0 if resolved == "never called" else 2)


async def test_a_failing_resolver_refuses_the_connection_and_never_logs_the_token(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)

    def resolver(token: str) -> object:
        raise ValueError(f"cannot decode {token}")

    connected = await connect(
        AccessTokenAuthMiddleware(consumer_app(), user_resolver=resolver), ["access-token", TOKEN]
    )

    assert connected[0] is False
    assert "the access-token resolver raised; the connection is refused" in caplog.text
    assert "ValueError: cannot decode [redacted]" in caplog.text
    assert TOKEN not in caplog.text


async def test_the_token_never_reaches_the_logs_of_a_good_connection(
    user: User, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    conversation = WebsocketCommunicator(
        AccessTokenAuthMiddleware(consumer_app(), user_resolver=sync_orm_resolver),
        "/ws/",
        subprotocols=["access-token", TOKEN],
    )
    await conversation.connect()
    await conversation.send_to(text_data="not json")
    error = await conversation.receive_from()
    await conversation.disconnect()

    assert TOKEN not in caplog.text
    assert TOKEN not in error


def test_the_resolver_must_be_callable() -> None:
    with pytest.raises(TypeError, match="user_resolver must be callable, got str"):
        AccessTokenAuthMiddleware(consumer_app(), user_resolver="resolver")  # type: ignore[arg-type]


async def test_the_middleware_stacks_under_the_session_one(user: User) -> None:
    from channels.auth import AuthMiddlewareStack

    app = AuthMiddlewareStack(AccessTokenAuthMiddleware(consumer_app(), user_resolver=async_orm_resolver))

    assert await connect(app, ["access-token", TOKEN]) == (True, "access-token")
    assert await sync_to_async(User.objects.count)() == 1


async def test_a_resolver_may_give_the_token_s_expiry_and_the_same_resolver_checks_a_fresh_one(
    user: User,
) -> None:
    expires_at = datetime(2030, 1, 1, tzinfo=UTC)

    def expiring_resolver(token: str) -> tuple[User | None, datetime] | None:
        if token == "nobody":
            return None
        return User.objects.filter(username=token.rpartition(".")[2]).first(), expires_at

    recorder = ScopeRecorder()
    await connect(
        AccessTokenAuthMiddleware(recorder, user_resolver=expiring_resolver), ["access-token", TOKEN]
    )
    refresh = recorder.scope[REFRESH_SCOPE_KEY]

    assert recorder.scope["user"] == user
    assert recorder.scope[EXPIRES_AT_SCOPE_KEY] == expires_at
    assert await refresh("fresh.sig") == (user.pk, expires_at)
    assert await refresh("nobody") is None
    assert await refresh("fresh.unknown") is None  # a user the database does not have
