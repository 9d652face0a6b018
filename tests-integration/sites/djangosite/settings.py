"""Settings of the Django test site; the database file and the Redis URL come from the environment."""

import os

SECRET_KEY = "integration-tests-only"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
USE_TZ = True
ROOT_URLCONF = "djangosite.urls"
ASGI_APPLICATION = "djangosite.asgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "channels",
    "beeflow_websocket.django",
    "djangosite",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ["DJANGOSITE_DB"]}}

BEEFLOW_WEBSOCKET_PROBLEM_TYPE_BASE_URL = "https://example.com/problems/websocket"
BEEFLOW_WEBSOCKET_ASYNCAPI = {"title": "Test site", "version": "0.1.0"}
BEEFLOW_WEBSOCKET_MAX_OUTBOUND_MESSAGES = int(os.environ.get("SITE_MAX_OUTBOUND", "256"))
BEEFLOW_WEBSOCKET_RATE_LIMIT = os.environ.get("SITE_RATE_LIMIT")
BEEFLOW_WEBSOCKET_USER_RATE_LIMIT = os.environ.get("SITE_USER_RATE_LIMIT")
BEEFLOW_WEBSOCKET_RATE_LIMIT_BUDGET = os.environ.get("SITE_RATE_LIMIT_BUDGET", "60/min")
# Short, so that the tests of expiring tokens take a second, not a minute.
BEEFLOW_WEBSOCKET_TOKEN_EXPIRY_NOTICE = 0.5
BEEFLOW_WEBSOCKET_TOKEN_EXPIRY_GRACE = 0.5
# Room for the 200 events a resume test misses; the tests that outrun it publish more.
BEEFLOW_WEBSOCKET_HISTORY_SIZE = int(os.environ.get("SITE_HISTORY_SIZE", "300"))
BEEFLOW_WEBSOCKET_HISTORY_STREAMS = tuple(os.environ.get("SITE_HISTORY_STREAMS", "user,group").split(","))
# Every request is recorded, so every test runs with the ledger of retries in its path.
BEEFLOW_WEBSOCKET_RETRY_WINDOW = float(os.environ.get("SITE_RETRY_WINDOW", "30"))

if os.environ.get("DJANGOSITE_REDIS_URL"):
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [os.environ["DJANGOSITE_REDIS_URL"]]},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
if os.environ.get("DJANGOSITE_BEEFLOW_REDIS_URL"):
    # Connections reach each other through the adapter's own Redis engine, not the channel layer.
    BEEFLOW_WEBSOCKET_REDIS_URL = os.environ["DJANGOSITE_BEEFLOW_REDIS_URL"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(levelname)s %(name)s %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "beeflow_websocket": {"handlers": ["stderr"], "level": "DEBUG", "propagate": False},
        "siteplugins": {"handlers": ["stderr"], "level": "DEBUG", "propagate": False},
    },
}
