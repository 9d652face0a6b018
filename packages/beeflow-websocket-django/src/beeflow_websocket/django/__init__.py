"""Beeflow WebSocket adapter for Django: moves frames between Django and the core dispatcher."""
