"""The adapter keywords the FastAPI and Flask test sites share, read from the environment the tests set."""

import os
from typing import Any


def site_options() -> dict[str, Any]:
    """``configure_beeflow_websocket`` keywords of a test site (Django's settings mirror them)."""
    return {
        "problem_type_base_url": "https://example.com/problems/websocket",
        "redis_url": os.environ.get("SITE_REDIS_URL"),
        "max_outbound_messages": int(os.environ.get("SITE_MAX_OUTBOUND", "256")),
        "rate_limit": os.environ.get("SITE_RATE_LIMIT"),
        "user_rate_limit": os.environ.get("SITE_USER_RATE_LIMIT"),
        "rate_limit_budget": os.environ.get("SITE_RATE_LIMIT_BUDGET", "60/min"),
        # Short, so that the tests of expiring tokens take a second, not a minute.
        "token_expiry_notice": 0.5,
        "token_expiry_grace": 0.5,
        # Room for the 200 events a resume test misses; the tests that outrun it publish more.
        "history_size": int(os.environ.get("SITE_HISTORY_SIZE", "300")),
        "history_streams": tuple(os.environ.get("SITE_HISTORY_STREAMS", "user,group").split(",")),
        # Every request is recorded, so every test runs with the ledger of retries in its path.
        "retry_window": float(os.environ.get("SITE_RETRY_WINDOW", "30")),
        "asyncapi": {"title": "Test site", "version": "0.1.0"},
    }
