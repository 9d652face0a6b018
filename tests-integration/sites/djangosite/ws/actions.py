"""Found by autodiscovery: importing it registers the shared test actions."""

import siteplugins.actions  # noqa: F401
