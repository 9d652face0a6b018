"""The application the documentation's examples import (``my_app.actions``, ``my_app.main``)."""
