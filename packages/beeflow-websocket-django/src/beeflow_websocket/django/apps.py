"""The Django app: add ``"beeflow_websocket.django"`` to ``INSTALLED_APPS``."""

from __future__ import annotations

from django.apps import AppConfig, apps

from beeflow_websocket.core.autodiscover import autodiscover
from beeflow_websocket.django import configuration

__all__ = ["BeeflowWebSocketConfig"]


class BeeflowWebSocketConfig(AppConfig):
    """Checks the settings and autodiscovers plugin modules of every installed app at startup.

    Autodiscovery runs in ``ready()``, as ``django.contrib.admin`` discovers ``admin`` modules: once
    every app is loaded, the conventional plugin modules of each installed app are imported, then
    the packages of ``BEEFLOW_WEBSOCKET_AUTODISCOVER_PACKAGES``. An error inside an existing plugin
    module is raised as it is and fails startup.
    """

    name = "beeflow_websocket.django"
    label = "beeflow_websocket"
    verbose_name = "Beeflow WebSocket"

    def ready(self) -> None:
        """Check the settings and import the plugin modules."""
        configuration.dispatcher_settings()
        enabled = configuration.autodiscover_enabled()
        module_names = configuration.autodiscover_modules()
        whole_packages = configuration.autodiscover_packages()
        if enabled:
            autodiscover(
                [app_config.name for app_config in apps.get_app_configs()], module_names, whole_packages
            )
