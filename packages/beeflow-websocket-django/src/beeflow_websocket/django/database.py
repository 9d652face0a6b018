"""How often the consumer closes stale database connections: not on every frame.

Channels' consumers close stale database connections before handling each message, through a
worker thread (``aclose_old_connections``). For a protocol connection that hop costs more than the
whole protocol does: about a sixth of the server's CPU per message under load. Connections become
stale on a scale of seconds (``CONN_MAX_AGE``, a database server's idle timeout), so the consumer
checks on connect and disconnect as Channels does, and for frames at most once per
:data:`STALE_CHECK_INTERVAL` seconds in each process. ORM calls made through Channels'
``database_sync_to_async`` check around every call, as before.
"""

from __future__ import annotations

from time import monotonic
from typing import Final

from channels.db import aclose_old_connections

__all__ = ["STALE_CHECK_INTERVAL", "close_stale_connections"]

STALE_CHECK_INTERVAL: Final = 1.0
"""Seconds between two checks for frames, per process."""

_last_check = float("-inf")


async def close_stale_connections(*, now: bool = False) -> None:
    """Close database connections that are unusable or past ``CONN_MAX_AGE``, if a check is due.

    Args:
        now: Check whatever the time since the last check (connect and disconnect).
    """
    global _last_check  # one clock for the whole process, as for its database connections
    moment = monotonic()
    if now or moment - _last_check >= STALE_CHECK_INTERVAL:
        _last_check = moment
        await aclose_old_connections()
