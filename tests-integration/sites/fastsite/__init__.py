"""A test site served by a real server; its plugins are found by autodiscovery."""
