import subprocess
import sys

from django.urls import URLPattern

from beeflow_websocket.django.consumer import WebSocketConsumer
from beeflow_websocket.django.routing import websocket_urlpatterns


def test_the_bundled_route_serves_the_consumer_at_ws() -> None:
    [pattern] = websocket_urlpatterns

    assert isinstance(pattern, URLPattern)
    assert str(pattern.pattern) == "ws/"
    assert pattern.callback.consumer_class is WebSocketConsumer  # type: ignore[attr-defined]


def test_the_modules_asgi_py_imports_need_no_configured_django() -> None:
    # The published asgi.py imports these before get_asgi_application() sets Django up.
    script = (
        "import beeflow_websocket.django.authentication, beeflow_websocket.django.routing\n"
        "from django.conf import settings\n"
        "assert not settings.configured\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, env={}
    )

    assert result.returncode == 0, result.stderr
