"""A small Beeflow WebSocket application: FastAPI, in memory, nothing else to install.

Run it with ``make demo`` and open http://127.0.0.1:8000/.
"""
