"""The bundled route: the consumer at ``ws/``, for ``URLRouter`` in the project's ``asgi.py``."""

from __future__ import annotations

from django.urls import path

from beeflow_websocket.django.consumer import WebSocketConsumer

__all__ = ["websocket_urlpatterns"]

websocket_urlpatterns = [
    path("ws/", WebSocketConsumer.as_asgi()),
]
