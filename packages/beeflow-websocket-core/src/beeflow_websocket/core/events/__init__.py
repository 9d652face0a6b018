"""Built-in events. Application events subclass :class:`beeflow_websocket.core.event_registry.Event`."""
