"""The Channels consumer: accepts authenticated users and moves frames to the core dispatcher.

Mount it at any path::

    websocket_urlpatterns = [path("api/ws/", WebSocketConsumer.as_asgi())]
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import Any, Final
from uuid import uuid4

from channels.exceptions import ChannelFull
from channels.generic.websocket import AsyncWebsocketConsumer

from beeflow_websocket.core.access_token import ACCESS_TOKEN_SUBPROTOCOL
from beeflow_websocket.core.dispatcher import ConnectionDispatcher
from beeflow_websocket.core.transport import OutboundEvent
from beeflow_websocket.django.configuration import dispatcher_settings

__all__ = ["EVENT_MESSAGE_TYPE", "WebSocketConsumer"]

logger: Final = logging.getLogger(__name__)

EVENT_MESSAGE_TYPE: Final = "beeflow.event"
"""Channel-layer message type that carries an event to another connection's consumer."""


class _ChannelsTransport:
    """Writes to the consumer's own socket directly; reaches other connections through the layer.

    The asking connection's frames never pass through the channel layer, whose per-channel capacity
    would otherwise drop frames of a busy connection.
    """

    __slots__ = ("_consumer",)

    def __init__(self, consumer: WebSocketConsumer) -> None:
        self._consumer = consumer

    async def send(self, frame: str) -> None:
        await self._consumer.send(text_data=frame)

    async def route(self, websocket_ids: Collection[str], event: OutboundEvent) -> None:
        layer = self._consumer.channel_layer
        if layer is None:
            logger.debug("dropped an event for %d connection(s): no channel layer", len(websocket_ids))
            return
        message = {"type": EVENT_MESSAGE_TYPE, "req_id": event.req_id, "body": event.body}
        for channel_name in websocket_ids:
            try:
                await layer.send(channel_name, message)
            except ChannelFull:
                logger.warning("dropped an event for connection %s: its channel is full", channel_name)


class WebSocketConsumer(AsyncWebsocketConsumer):  # type: ignore[misc]
    """Serves the protocol to authenticated users; refuses the handshake of anyone else.

    The connection id (``context.websocket_id``, the ``websocket`` recipient id) is the consumer's
    channel name, so an event can reach a connection held by another process through the channel
    layer (without a channel layer, a process-local id). The handshake selects the
    ``access-token`` subprotocol when the client offered it.
    """

    dispatcher: ConnectionDispatcher | None = None

    async def connect(self) -> None:
        """Accept an authenticated user, refuse anyone else."""
        user = self.scope.get("user")
        if user is None or not getattr(user, "is_authenticated", False):
            await self.close()
            return
        self.dispatcher = ConnectionDispatcher(
            _ChannelsTransport(self),
            # Without a channel layer there is no channel name, and no other connection to reach.
            websocket_id=getattr(self, "channel_name", None) or f"local.{uuid4().hex}",
            user_id=user.id,
            path=self.scope.get("path", ""),
            settings=dispatcher_settings(),
        )
        offered = self.scope.get("subprotocols") or ()
        await self.accept(ACCESS_TOKEN_SUBPROTOCOL if ACCESS_TOKEN_SUBPROTOCOL in offered else None)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Hand a frame from the client to the dispatcher."""
        if self.dispatcher is not None:
            await self.dispatcher.receive(text_data if text_data is not None else bytes_data or b"")

    async def disconnect(self, code: int) -> None:
        """The client has gone: stop the connection's running actions."""
        if self.dispatcher is not None:
            await self.dispatcher.close()

    async def beeflow_event(self, message: dict[str, Any]) -> None:
        """Deliver an event another connection routed here through the channel layer."""
        if self.dispatcher is not None:
            await self.dispatcher.deliver(OutboundEvent(req_id=message.get("req_id"), body=message["body"]))
