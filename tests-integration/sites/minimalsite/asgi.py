"""The 0.3.0 README's token set-up, verbatim but for the resolver's body, which the README leaves out."""

import os

from channels.routing import ProtocolTypeRouter, URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from django.core.asgi import get_asgi_application

from beeflow_websocket.django.authentication import AccessTokenAuthMiddleware
from beeflow_websocket.django.routing import websocket_urlpatterns

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "minimalsite.settings")

django_asgi_app = get_asgi_application()


class SiteUser:
    """The project's own user object: no Django user model in this site."""

    is_authenticated = True

    def __init__(self, user_id: int) -> None:
        self.id = user_id


async def get_user_for_access_token(token: str) -> object:
    """Validate the project access token and return a Django user."""
    return SiteUser(7) if token == "minimal-token" else None


application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(
            AccessTokenAuthMiddleware(
                URLRouter(websocket_urlpatterns),
                user_resolver=get_user_for_access_token,
            )
        ),
    }
)
