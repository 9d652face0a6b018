"""The test sites' access tokens: ``user-<id>``, or ``user-<id>~<seconds>`` for one that expires."""

import time

from beeflow_websocket.core.guardrails.expiry import Expiry


def read_token(token: str) -> tuple[int, Expiry] | None:
    """The user a token names and when it expires (``None``: never); ``None`` for a token naming nobody."""
    name, _, lasts = token.partition("~")
    if not name.startswith("user-") or not name[5:].isdigit():
        return None
    try:
        expires_at = time.time() + float(lasts) if lasts else None
    except ValueError:
        return None
    return int(name[5:]), expires_at


async def refresh(token: str) -> tuple[int, Expiry] | None:
    """The check of a fresh token sent with ``beeflow.refresh``: the same reading."""
    return read_token(token)
