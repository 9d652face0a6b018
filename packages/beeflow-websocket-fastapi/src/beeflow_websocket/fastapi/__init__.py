"""Beeflow WebSocket adapter for Fastapi: moves frames between Fastapi and the core dispatcher."""
