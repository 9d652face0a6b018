import sys
from collections.abc import Iterator

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from beeflow_websocket.core.action_registry import ActionRegistryMeta
from beeflow_websocket.django.apps import BeeflowWebSocketConfig


@pytest.fixture
def app_config() -> BeeflowWebSocketConfig:
    config = apps.get_app_config("beeflow_websocket")
    assert isinstance(config, BeeflowWebSocketConfig)
    return config


@pytest.fixture
def forgotten_say() -> Iterator[None]:
    """Forget chatapp.ws.actions, as if startup had not imported it yet."""
    saved = sys.modules.pop("chatapp.ws.actions")
    ActionRegistryMeta.registry.unregister("say")
    yield
    sys.modules["chatapp.ws.actions"] = saved


def test_installed_apps_are_autodiscovered_at_startup() -> None:
    assert "say" in ActionRegistryMeta.registry


def test_the_app_label_and_name() -> None:
    config = apps.get_app_config("beeflow_websocket")

    assert (config.name, config.verbose_name) == ("beeflow_websocket.django", "Beeflow WebSocket")


@pytest.mark.usefixtures("forgotten_say")
def test_autodiscovery_can_be_turned_off(app_config: BeeflowWebSocketConfig) -> None:
    with override_settings(BEEFLOW_WEBSOCKET_AUTODISCOVER=False):
        app_config.ready()
    assert "say" not in ActionRegistryMeta.registry

    app_config.ready()
    assert "say" in ActionRegistryMeta.registry


@pytest.mark.usefixtures("forgotten_say")
def test_the_module_list_replaces_the_conventional_one(app_config: BeeflowWebSocketConfig) -> None:
    with override_settings(BEEFLOW_WEBSOCKET_AUTODISCOVER_MODULES=["handlers"]):
        app_config.ready()

    assert "handled" in ActionRegistryMeta.registry
    assert "say" not in ActionRegistryMeta.registry


@pytest.mark.usefixtures("forgotten_say")
def test_packages_are_imported_whole(app_config: BeeflowWebSocketConfig) -> None:
    with override_settings(
        BEEFLOW_WEBSOCKET_AUTODISCOVER_MODULES=[], BEEFLOW_WEBSOCKET_AUTODISCOVER_PACKAGES=["chatapp.ws"]
    ):
        app_config.ready()

    assert "say" in ActionRegistryMeta.registry


def test_an_error_inside_a_plugin_module_fails_startup_as_it_is(app_config: BeeflowWebSocketConfig) -> None:
    with (
        override_settings(BEEFLOW_WEBSOCKET_AUTODISCOVER_MODULES=["faulty"]),
        pytest.raises(LookupError, match="faulty plugin module"),
    ):
        app_config.ready()


def test_wrong_settings_fail_startup(app_config: BeeflowWebSocketConfig) -> None:
    with (
        override_settings(BEEFLOW_WEBSOCKET_AUTODISCOVER_PACKAGES="chatapp"),
        pytest.raises(ImproperlyConfigured),
    ):
        app_config.ready()
