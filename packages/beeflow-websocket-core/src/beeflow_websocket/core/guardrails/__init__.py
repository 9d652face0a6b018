"""Guardrails: what the server decides about a connection beyond its requests.

- :mod:`~beeflow_websocket.core.guardrails.kick`: closing a user's connections, or one connection,
  from anywhere in the deployment;
- :mod:`~beeflow_websocket.core.guardrails.rate_limits`: token buckets as arithmetic, in memory;
  :mod:`~beeflow_websocket.core.guardrails.redis_tokens` the same in Redis, shared by every process;
- :mod:`~beeflow_websocket.core.guardrails.limiter`: a connection's rate limits, checked before each
  request runs.

The decisions live here; what must be shared between processes goes through the delivery engine.
"""
