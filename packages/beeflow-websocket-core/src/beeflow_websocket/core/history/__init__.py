"""History of delivery streams, so that a client that reconnects receives what it missed.

- :mod:`~beeflow_websocket.core.history.positions`: where an event stands in its stream, and which
  streams keep a history (pure);
- :mod:`~beeflow_websocket.core.history.cursor`: what one connection has been written of each
  stream, so that it is sent every event once, in order (pure);
- :mod:`~beeflow_websocket.core.history.memory`: the history of one process's streams;
- :mod:`~beeflow_websocket.core.history.redis_history`: the history of every process's streams in
  Redis, appended and published in one step.
"""
