from django.urls import URLPattern

from beeflow_websocket.django.consumer import WebSocketConsumer
from beeflow_websocket.django.routing import websocket_urlpatterns


def test_the_bundled_route_serves_the_consumer_at_ws() -> None:
    [pattern] = websocket_urlpatterns

    assert isinstance(pattern, URLPattern)
    assert str(pattern.pattern) == "ws/"
    assert pattern.callback.consumer_class is WebSocketConsumer  # type: ignore[attr-defined]
