"""``RedisDelivery`` under the import path it had in 0.4.0; it lives in :mod:`.delivery.redis`."""

from beeflow_websocket.core.delivery.redis import RedisDelivery

__all__ = ["RedisDelivery"]
