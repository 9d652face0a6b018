"""A minimal Django site as the 0.3.0 README shows it: no django.contrib.auth, no contenttypes."""

SECRET_KEY = "integration-tests-only"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "channels",
    "beeflow_websocket.django",
    "minimalsite",
]

ASGI_APPLICATION = "minimalsite.asgi.application"

BEEFLOW_WEBSOCKET_PROBLEM_TYPE_BASE_URL = "https://example.com/problems/websocket"

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels.layers.InMemoryChannelLayer",
    }
}
