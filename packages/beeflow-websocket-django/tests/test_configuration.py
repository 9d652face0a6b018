import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from beeflow_websocket.core.autodiscover import CONVENTIONAL_MODULES
from beeflow_websocket.django import configuration


def test_defaults() -> None:
    assert configuration.dispatcher_settings().problem_type_base_url is None
    assert configuration.autodiscover_enabled() is True
    assert configuration.autodiscover_modules() == CONVENTIONAL_MODULES
    assert configuration.autodiscover_packages() == ()


@override_settings(
    BEEFLOW_WEBSOCKET_PROBLEM_TYPE_BASE_URL="https://example.com/problems/websocket",
    BEEFLOW_WEBSOCKET_AUTODISCOVER=False,
    BEEFLOW_WEBSOCKET_AUTODISCOVER_MODULES=["handlers"],
    BEEFLOW_WEBSOCKET_AUTODISCOVER_PACKAGES=("plugins",),
)
def test_settings_are_read() -> None:
    assert (
        configuration.dispatcher_settings().problem_type_base_url == "https://example.com/problems/websocket"
    )
    assert configuration.autodiscover_enabled() is False
    assert configuration.autodiscover_modules() == ("handlers",)
    assert configuration.autodiscover_packages() == ("plugins",)


@pytest.mark.parametrize(
    ("name", "value", "read"),
    [
        ("BEEFLOW_WEBSOCKET_PROBLEM_TYPE_BASE_URL", 42, configuration.dispatcher_settings),
        ("BEEFLOW_WEBSOCKET_PROBLEM_TYPE_BASE_URL", " ", configuration.dispatcher_settings),
        ("BEEFLOW_WEBSOCKET_AUTODISCOVER", "no", configuration.autodiscover_enabled),
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
