import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from beeflow_websocket.core.testing import isolated_registries

# The tests' own installed app (chatapp) lives beside this file.
sys.path.insert(0, str(Path(__file__).parent))


def pytest_configure() -> None:
    settings.configure(
        SECRET_KEY="tests-only",
        USE_TZ=True,
        INSTALLED_APPS=[
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django.contrib.sessions",
            "channels",
            "beeflow_websocket.django",
            "chatapp",
        ],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        CHANNEL_LAYERS={"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}},
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    )


@pytest.fixture(autouse=True)
def isolated() -> Iterator[None]:
    """Forget the plugin classes a test defines, so that tests cannot see each other's."""
    with isolated_registries():
        yield
