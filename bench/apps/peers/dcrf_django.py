"""djangochannelsrestframework under daphne: an ``AsyncAPIConsumer`` whose ``health`` action replies."""

import os

from channels.routing import ProtocolTypeRouter, URLRouter
from django.core.asgi import get_asgi_application
from django.urls import path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peers.django_settings")
django_asgi_app = get_asgi_application()

from djangochannelsrestframework.consumers import AsyncAPIConsumer  # noqa: E402
from djangochannelsrestframework.decorators import action  # noqa: E402


class HealthConsumer(AsyncAPIConsumer):  # type: ignore[misc]
    @action()  # type: ignore[untyped-decorator]
    async def health(self, **kwargs: object) -> tuple[dict[str, str], int]:
        return {"status": "ok"}, 200


application = ProtocolTypeRouter(
    {"http": django_asgi_app, "websocket": URLRouter([path("dcrf/", HealthConsumer.as_asgi())])}
)
