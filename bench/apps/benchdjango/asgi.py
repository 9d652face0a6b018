"""Django Channels under daphne: /ws/ (Beeflow), /echo/, /json/ and /fanout/ (hand-written consumers)."""

import os

from channels.generic.websocket import AsyncWebsocketConsumer
from channels.routing import ProtocolTypeRouter, URLRouter
from django.core.asgi import get_asgi_application
from django.urls import path

from handwritten import HandWrittenGroup, HandWrittenHealth

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchdjango.settings")
django_asgi_app = get_asgi_application()

from beeflow_websocket.django.consumer import WebSocketConsumer  # noqa: E402

from benchplugins import register_fanout_actions  # noqa: E402

register_fanout_actions()


class BenchUser:
    is_authenticated = True
    id = 1


def authenticated(app):  # type: ignore[no-untyped-def]
    async def middleware(scope, receive, send):  # type: ignore[no-untyped-def]
        return await app(dict(scope, user=BenchUser()), receive, send)

    return middleware


class Echo(AsyncWebsocketConsumer):  # type: ignore[misc]
    async def receive(self, text_data=None, bytes_data=None):  # type: ignore[no-untyped-def]
        await self.send(text_data=text_data)


class HandWritten(AsyncWebsocketConsumer):  # type: ignore[misc]
    async def connect(self):  # type: ignore[no-untyped-def]
        self.health = HandWrittenHealth(self.channel_name)
        await self.accept()

    async def receive(self, text_data=None, bytes_data=None):  # type: ignore[no-untyped-def]
        await self.send(text_data=self.health.answer(text_data))


class FanOut(AsyncWebsocketConsumer):  # type: ignore[misc]
    """The Channels way: a member joins a channel-layer group; a broadcast is one group_send."""

    async def connect(self):  # type: ignore[no-untyped-def]
        self.group = HandWrittenGroup(self.channel_name)
        await self.accept()

    async def receive(self, text_data=None, bytes_data=None):  # type: ignore[no-untyped-def]
        kind, frame = self.group.read(text_data)
        if kind == "join":
            await self.channel_layer.group_add("bench", self.channel_name)
            await self.send(text_data=frame)
        else:
            await self.channel_layer.group_send("bench", {"type": "bench.broadcast", "text": frame})

    async def bench_broadcast(self, event):  # type: ignore[no-untyped-def]
        await self.send(text_data=event["text"])

    async def disconnect(self, code):  # type: ignore[no-untyped-def]
        await self.channel_layer.group_discard("bench", self.channel_name)


application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": authenticated(
            URLRouter(
                [
                    path("ws/", WebSocketConsumer.as_asgi()),
                    path("echo/", Echo.as_asgi()),
                    path("json/", HandWritten.as_asgi()),
                    path("fanout/", FanOut.as_asgi()),
                ]
            )
        ),
    }
)
