"""Guardrails: what the server decides about a connection beyond its requests.

- :mod:`~beeflow_websocket.core.guardrails.kick`: closing a user's connections, or one connection,
  from anywhere in the deployment.

The decisions live here; what must be shared between processes goes through the delivery engine.
"""
