"""Django Channels under daphne: /ws/ (Beeflow), /echo/, /json/ (hand-written consumers)."""

import os

from channels.generic.websocket import AsyncWebsocketConsumer
from channels.routing import ProtocolTypeRouter, URLRouter
from django.core.asgi import get_asgi_application
from django.urls import path

from handwritten import HandWrittenHealth

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchdjango.settings")
django_asgi_app = get_asgi_application()

from beeflow_websocket.django.consumer import WebSocketConsumer  # noqa: E402


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


application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": authenticated(
            URLRouter(
                [
                    path("ws/", WebSocketConsumer.as_asgi()),
                    path("echo/", Echo.as_asgi()),
                    path("json/", HandWritten.as_asgi()),
                ]
            )
        ),
    }
)
