"""Beeflow WebSocket adapter for Flask: moves frames between Flask and the core dispatcher."""
