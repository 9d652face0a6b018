"""Beeflow WebSocket core: the transport-agnostic protocol of typed action and event dispatch.

Nothing here imports a web framework or touches a socket. The protocol is decided in
:mod:`beeflow_websocket.core.dispatcher`; framework adapters (``beeflow_websocket.django``,
``beeflow_websocket.fastapi``, ``beeflow_websocket.flask``) only move frames.
"""
