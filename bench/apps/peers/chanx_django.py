"""chanx on Django Channels under daphne: /chanx/ answers ``health``."""

import os

from channels.routing import ProtocolTypeRouter, URLRouter
from django.core.asgi import get_asgi_application
from django.urls import path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peers.django_settings")
django_asgi_app = get_asgi_application()

from chanx.channels.websocket import AsyncJsonWebsocketConsumer  # noqa: E402
from chanx.core.decorators import channel, ws_handler  # noqa: E402

from peers.chanx_messages import Health, HealthStatus, Status  # noqa: E402


@channel(name="health")
class HealthConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]
    @ws_handler(output_type=HealthStatus)
    async def handle_health(self, message: Health) -> HealthStatus:
        return HealthStatus(payload=Status(status="ok"))


application = ProtocolTypeRouter(
    {"http": django_asgi_app, "websocket": URLRouter([path("chanx/", HealthConsumer.as_asgi())])}
)
