"""Beeflow WebSocket for Django Channels: an installable app, a consumer, routing and auth middleware.

Add ``"beeflow_websocket.django"`` to ``INSTALLED_APPS``, mount
``beeflow_websocket.django.routing.websocket_urlpatterns`` (or ``WebSocketConsumer`` at a path of
your own) in ``asgi.py``, behind ``AuthMiddlewareStack`` or ``AccessTokenAuthMiddleware``.
"""
