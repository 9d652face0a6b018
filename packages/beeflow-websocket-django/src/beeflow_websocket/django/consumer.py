"""The Channels consumer: accepts authenticated users and moves frames to the core dispatcher.

Mount it at any path::

    websocket_urlpatterns = [path("api/ws/", WebSocketConsumer.as_asgi())]
"""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack
from typing import Any, Final
from uuid import uuid4

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer

from beeflow_websocket.core.configuration import AdapterState
from beeflow_websocket.core.dispatcher import ConnectionDispatcher
from beeflow_websocket.core.history.positions import StreamPosition
from beeflow_websocket.core.lifecycle import ConnectionLifecycle
from beeflow_websocket.core.negotiation import negotiated_version, selected_subprotocol
from beeflow_websocket.core.problems import DeliveryUnavailable
from beeflow_websocket.core.transport import OutboundEvent
from beeflow_websocket.django.authentication import EXPIRES_AT_SCOPE_KEY, REFRESH_SCOPE_KEY
from beeflow_websocket.django.configuration import dispatcher_settings
from beeflow_websocket.django.database import close_stale_connections
from beeflow_websocket.django.delivery import CLOSE_MESSAGE_TYPE, EVENT_MESSAGE_TYPE, ChannelLayerDelivery
from beeflow_websocket.django.engine import redis_state

__all__ = ["CLOSE_MESSAGE_TYPE", "EVENT_MESSAGE_TYPE", "WebSocketConsumer"]

logger: Final = logging.getLogger(__name__)

_ALWAYS_CHECKED: Final = frozenset({"websocket.connect", "websocket.disconnect"})
_NO_CHANNEL_LAYER: Final = "beeflow-websocket: no channel layer"
"""A channel-layer alias no site configures: Channels then gives the consumer no layer."""


class _ChannelsTransport:
    """Writes to the consumer's own socket directly, never through the channel layer.

    The channel layer's per-channel capacity would otherwise drop frames of a busy connection.
    """

    __slots__ = ("_consumer",)

    def __init__(self, consumer: WebSocketConsumer) -> None:
        self._consumer = consumer

    async def send(self, frame: str) -> None:
        await self._consumer.send(text_data=frame)

    async def close(self, code: int, reason: str) -> None:
        await self._consumer.close(code=code, reason=reason)


class WebSocketConsumer(AsyncWebsocketConsumer):  # type: ignore[misc]
    """Serves the protocol to authenticated users; refuses the handshake of anyone else.

    Connections reach each other through the core's Redis engine when ``BEEFLOW_WEBSOCKET_REDIS_URL``
    is set (see :mod:`beeflow_websocket.django.engine`), else through the channel layer: then the
    connection id (``context.websocket_id``, the ``websocket`` recipient id) is the consumer's
    channel name, so an event can reach a connection held by another process (without a channel
    layer, a process-local id). The handshake selects the
    ``access-token`` subprotocol when the client offered it.
    """

    dispatcher: ConnectionDispatcher | None = None
    _lifecycle: AsyncExitStack | None = None
    _state: AdapterState | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Serve one connection; with the Redis engine, without listening on the channel layer.

        Channels' consumers listen on their channel layer for messages to their channel name. With
        the Redis engine nothing comes that way, and a Redis outage would end every connection
        with 1011 through that listener, instead of a 503 answer per event.
        """
        self._state = redis_state()
        if self._state is not None:
            self.channel_layer_alias = _NO_CHANNEL_LAYER
        await super().__call__(scope, receive, send)

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Route a message to its handler, checking for stale database connections only when due.

        Channels checks before every message, through a worker thread; see
        :mod:`beeflow_websocket.django.database` for why frames check at most once a second.
        """
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await close_stale_connections(now=message["type"] in _ALWAYS_CHECKED)
        await handler(message)

    async def connect(self) -> None:
        """Accept an authenticated user, refuse anyone else."""
        user = self.scope.get("user")
        if user is None or not getattr(user, "is_authenticated", False):
            await self.close()
            return
        state = self._state
        if state is not None:
            delivery, connections, websocket_id = state.delivery, state.connections, str(uuid4())
        else:
            # The channel layer reaches every connection, this process's too, by channel name;
            # without a channel layer there is no channel name, and no other connection to reach.
            history = dispatcher_settings().history
            delivery, connections = ChannelLayerDelivery(self.channel_layer, history), None
            websocket_id = getattr(self, "channel_name", None) or f"local.{uuid4().hex}"
        subprotocols = self.scope.get("subprotocols") or ()
        lifecycle = ConnectionLifecycle(
            _ChannelsTransport(self),
            delivery=delivery,
            connections=connections,
            websocket_id=websocket_id,
            user_id=user.id,
            path=self.scope.get("path", ""),
            settings=dispatcher_settings(),
            protocol_version=negotiated_version(subprotocols),
            expires_at=self.scope.get(EXPIRES_AT_SCOPE_KEY),
            refresh=self.scope.get(REFRESH_SCOPE_KEY),
        )
        self._lifecycle = AsyncExitStack()
        try:
            self.dispatcher = await self._lifecycle.enter_async_context(lifecycle)
        except DeliveryUnavailable:
            # Without its user's group the connection would miss events: refuse, the client retries.
            logger.warning("refused a connection: the delivery engine could not record it")
            await self.close()
            return
        await self.accept(selected_subprotocol(subprotocols))

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Hand a frame from the client to the dispatcher."""
        if self.dispatcher is not None:
            await self.dispatcher.receive(text_data if text_data is not None else bytes_data or b"")

    async def disconnect(self, code: int) -> None:
        """The client has gone: stop the connection's running actions."""
        if self._lifecycle is not None:
            await self._lifecycle.aclose()

    async def beeflow_event(self, message: dict[str, Any]) -> None:
        """Deliver an event another connection routed here through the channel layer."""
        if self.dispatcher is not None:
            stream = message.get("stream")
            event = OutboundEvent(
                req_id=message.get("req_id"),
                body=message["body"],
                skip=message.get("skip"),
                position=None if stream is None else StreamPosition(*stream),
            )
            await self.dispatcher.deliver(event)

    async def beeflow_close(self, message: dict[str, Any]) -> None:
        """Close the connection: the application disconnected its user, or it, from anywhere."""
        if self.dispatcher is not None:
            self.dispatcher.disconnect(int(message["code"]), str(message["reason"]))
