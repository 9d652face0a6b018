"""Requests retried after a lost connection: each ``msg_id`` runs at most once within a window.

A client that loses its connection while a request is in flight cannot know whether it ran; it
may send the same frame again once it is back, possibly to another process. With the setting
``retry_window``, the server records each request's ``msg_id`` when its action starts, and a
request it has recorded within the window is answered with the 409 ``duplicate_request`` problem,
which says what became of the first (``outcome``), instead of being run again.

- :mod:`~beeflow_websocket.core.retries.ledger`: the record, as a protocol, and this process's;
- :mod:`~beeflow_websocket.core.retries.redis_ledger`: the same in Redis, shared by every process.
"""
