import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from beeflow_websocket.core.autodiscover import CONVENTIONAL_MODULES
from beeflow_websocket.core.options import OPTIONS, Option
from beeflow_websocket.django import configuration
from beeflow_websocket.django.engine import redis_state


def test_defaults() -> None:
    settings = configuration.dispatcher_settings()
    assert settings.problem_type_base_url is None
    assert (settings.max_message_size, settings.max_concurrent_actions, settings.max_pending_messages) == (
        1024 * 1024,
        1,
        32,
    )
    assert configuration.autodiscover_enabled() is True
    assert configuration.autodiscover_modules() == CONVENTIONAL_MODULES
    assert configuration.autodiscover_packages() == ()


@override_settings(
    BEEFLOW_WEBSOCKET_PROBLEM_TYPE_BASE_URL="https://example.com/problems/websocket",
    BEEFLOW_WEBSOCKET_AUTODISCOVER=False,
    BEEFLOW_WEBSOCKET_AUTODISCOVER_MODULES=["handlers"],
    BEEFLOW_WEBSOCKET_AUTODISCOVER_PACKAGES=("plugins",),
    BEEFLOW_WEBSOCKET_MAX_MESSAGE_SIZE=2048,
    BEEFLOW_WEBSOCKET_MAX_CONCURRENT_ACTIONS=4,
    BEEFLOW_WEBSOCKET_MAX_PENDING_MESSAGES=64,
)
def test_settings_are_read() -> None:
    assert (
        configuration.dispatcher_settings().problem_type_base_url == "https://example.com/problems/websocket"
    )
    assert configuration.autodiscover_enabled() is False
    assert configuration.autodiscover_modules() == ("handlers",)
    assert configuration.autodiscover_packages() == ("plugins",)
    limits = configuration.dispatcher_settings()
    assert (limits.max_message_size, limits.max_concurrent_actions, limits.max_pending_messages) == (
        2048,
        4,
        64,
    )


@pytest.mark.parametrize(
    ("name", "value", "read"),
    [
        ("BEEFLOW_WEBSOCKET_PROBLEM_TYPE_BASE_URL", 42, configuration.dispatcher_settings),
        ("BEEFLOW_WEBSOCKET_PROBLEM_TYPE_BASE_URL", " ", configuration.dispatcher_settings),
        ("BEEFLOW_WEBSOCKET_AUTODISCOVER", "no", configuration.autodiscover_enabled),
        ("BEEFLOW_WEBSOCKET_MAX_MESSAGE_SIZE", "1MB", configuration.dispatcher_settings),
        ("BEEFLOW_WEBSOCKET_MAX_CONCURRENT_ACTIONS", 0, configuration.dispatcher_settings),
        ("BEEFLOW_WEBSOCKET_MAX_PENDING_MESSAGES", True, configuration.dispatcher_settings),
        ("BEEFLOW_WEBSOCKET_AUTODISCOVER_MODULES", "actions", configuration.autodiscover_modules),
        ("BEEFLOW_WEBSOCKET_AUTODISCOVER_MODULES", {"actions"}, configuration.autodiscover_modules),
        ("BEEFLOW_WEBSOCKET_AUTODISCOVER_MODULES", ["actions", 3], configuration.autodiscover_modules),
        ("BEEFLOW_WEBSOCKET_AUTODISCOVER_PACKAGES", "plugins", configuration.autodiscover_packages),
        ("BEEFLOW_WEBSOCKET_AUTODISCOVER_PACKAGES", None, configuration.autodiscover_packages),
    ],
)
def test_a_wrong_type_is_improperly_configured(name: str, value: object, read: object) -> None:
    with override_settings(**{name: value}), pytest.raises(ImproperlyConfigured, match=name):
        read()  # type: ignore[operator]


@pytest.mark.parametrize("entry", [entry for entry in OPTIONS if entry.django], ids=lambda entry: entry.name)
def test_every_option_of_the_table_is_read_from_its_django_setting(entry: Option) -> None:
    with override_settings(**{entry.django_setting: entry.example}):
        read = configuration.options()[entry.name]
        settings = configuration.dispatcher_settings()
        modules = (configuration.autodiscover_modules(), configuration.autodiscover_packages())

    assert read == entry.example
    assert entry.django_setting == configuration.setting_name(entry.name)
    if entry.protocol:
        assert getattr(settings, entry.name) == entry.example
    if entry.name.startswith("autodiscover_"):
        assert entry.example in modules


def test_django_reads_no_setting_outside_the_table() -> None:
    assert set(configuration.options()) == {entry.name for entry in OPTIONS if entry.django}


def test_without_a_redis_url_the_channel_layer_delivers() -> None:
    assert redis_state() is None


def test_one_redis_engine_per_url_and_prefix() -> None:
    with override_settings(BEEFLOW_WEBSOCKET_REDIS_URL="redis://127.0.0.1:1/0"):
        first, again = redis_state(), redis_state()
        with override_settings(BEEFLOW_WEBSOCKET_REDIS_CHANNEL_PREFIX="other"):
            other = redis_state()

    assert first is again
    assert first is not None
    assert other is not None
    assert other is not first
    assert other.redis is not None
    assert other.redis.channel_prefix == "other"


@pytest.mark.parametrize("name", ["BEEFLOW_WEBSOCKET_REDIS_URL", "BEEFLOW_WEBSOCKET_REDIS_CHANNEL_PREFIX"])
def test_a_blank_redis_setting_is_improperly_configured(name: str) -> None:
    settings = {"BEEFLOW_WEBSOCKET_REDIS_URL": "redis://127.0.0.1:1/0", name: " "}
    with override_settings(**settings), pytest.raises(ImproperlyConfigured, match=name):
        redis_state()
