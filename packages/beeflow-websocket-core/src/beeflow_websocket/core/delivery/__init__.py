"""Delivery engines: how an event reaches connections other than the one that produced it.

Every engine implements :class:`~beeflow_websocket.core.transport.Delivery`:

- :mod:`~beeflow_websocket.core.delivery.local`: the connections of this process, with nothing to
  install; the default;
- :mod:`~beeflow_websocket.core.delivery.redis`: every process and machine, through Redis pub/sub
  (the ``redis`` extra); it uses the local engine for this process's part.

The Django adapter has a third, over the Channels layer, in its own package. The protocol and the
runtime never import an engine: an adapter hands one to each connection.
"""
