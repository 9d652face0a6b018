"""Imports the built-in plugins so that they are registered before the first frame arrives."""

from beeflow_websocket.core.actions import health as health_action
from beeflow_websocket.core.events import health as health_event
from beeflow_websocket.core.recipients import group, user, websocket

__all__ = ["group", "health_action", "health_event", "user", "websocket"]
