"""Django management commands of Beeflow WebSocket."""
