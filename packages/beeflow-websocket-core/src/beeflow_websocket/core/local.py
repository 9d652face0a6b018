"""``LocalConnections`` under the import path it had in 0.4.0; it lives in :mod:`.delivery.local`."""

from beeflow_websocket.core.delivery.local import LocalConnections

__all__ = ["LocalConnections"]
