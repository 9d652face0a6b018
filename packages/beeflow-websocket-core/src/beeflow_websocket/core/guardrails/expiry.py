"""Credentials that expire: the notice before, the in-band refresh, and the close after.

When the application's authentication says until when a connection's credentials hold
(``expires_at``), the connection is held to it:

- ``token_expiry_notice`` seconds before, a protocol v1 client is sent the event
  :data:`EXPIRING_EVENT` (``{"expires_in": <seconds>}``); it asks for a fresh token and sends it with
  the reserved action :data:`~beeflow_websocket.core.protocol.REFRESH_ACTION`;
- the application's ``refresh`` hook checks that token as it checked the first; a token that
  resolves to nobody, or to another user, is refused 401 ``token_refused`` and changes nothing;
  an accepted one moves the expiry (or lifts it, with ``None``);
- ``token_expiry_grace`` seconds after the expiry, a connection that was not refreshed is closed
  with :data:`TOKEN_EXPIRED_CLOSE_CODE`; a client then connects again with a fresh token.

Times are absolute (an aware ``datetime``, or seconds since the epoch, as a JWT's ``exp``), read on
this machine's clock.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Final

from pydantic_core import to_json

from beeflow_websocket.core.problems import TokenRefused
from beeflow_websocket.core.transport import OutboundEvent

if TYPE_CHECKING:
    from beeflow_websocket.core.action_registry import UserId

__all__ = [
    "EXPIRING_EVENT",
    "TOKEN_EXPIRED_CLOSE_CODE",
    "TOKEN_EXPIRED_REASON",
    "Expiry",
    "Refresh",
    "TokenLease",
    "expiring_event",
    "expiry_timestamp",
    "renewed_expiry",
]

logger: Final = logging.getLogger("beeflow_websocket.core.guardrails")

TOKEN_EXPIRED_CLOSE_CODE: Final = 4440
"""Close code of a connection whose credentials expired unrefreshed (4000 + 440, login time-out): clients
connect again with a fresh token."""

TOKEN_EXPIRED_REASON: Final = "token expired"  # noqa: S105 - a close reason, not a secret
"""Its close reason."""

EXPIRING_EVENT: Final = "beeflow.token_expiring"
"""v1: the event that tells a client its credentials expire soon: payload ``{"expires_in": seconds}``."""

type Expiry = datetime | float | None
"""When credentials expire: an aware ``datetime``, seconds since the epoch, or ``None`` (never)."""

type Refresh = Callable[[str], Awaitable[tuple[UserId, Expiry] | None]]
"""Checks a fresh token: its user and expiry, or ``None`` when it names nobody."""


def expiry_timestamp(expires_at: Expiry) -> float | None:
    """``expires_at`` in seconds since the epoch.

    Raises:
        ValueError: A ``datetime`` without a time zone: which instant it names is a guess.
        TypeError: Neither a ``datetime``, a number nor ``None``.
    """
    if expires_at is None:
        return None
    if isinstance(expires_at, datetime):
        if expires_at.tzinfo is None:
            raise ValueError("expires_at must be an aware datetime (with tzinfo), or seconds since the epoch")
        return expires_at.timestamp()
    if isinstance(expires_at, bool) or not isinstance(expires_at, int | float):
        raise TypeError(f"expires_at must be a datetime, seconds since the epoch or None, got {expires_at!r}")
    return float(expires_at)


def expiring_event(websocket_id: str, seconds_left: float) -> OutboundEvent:
    """The :data:`EXPIRING_EVENT` for connection ``websocket_id``: ``{"expires_in": seconds}``, unasked."""
    body = (
        f'{{"event":"{EXPIRING_EVENT}","recipient":"websocket",'
        f'"recipient_id":{to_json(websocket_id).decode()},'
        f'"payload":{{"expires_in":{round(seconds_left, 3)}}}}}'
    )
    return OutboundEvent(req_id=None, body=body)


async def renewed_expiry(refresh: Refresh | None, token: str, user_id: UserId) -> float | TokenRefused | None:
    """Check a fresh ``token`` for the connection of ``user_id``: its new expiry, or the refusal to answer."""
    if refresh is None:
        return TokenRefused("This connection's credentials cannot be refreshed.")
    try:
        renewed = await refresh(token)
        if renewed is None:
            return TokenRefused("The token was not accepted.")
        renewed_user, expires_at = renewed
        if str(renewed_user) != str(user_id):
            logger.warning(
                "refused a token refresh for user %s: the token is user %s's", user_id, renewed_user
            )
            return TokenRefused("The token belongs to another user.")
        return expiry_timestamp(expires_at)
    except Exception:
        logger.exception("the refresh hook failed for user %s", user_id)
        return TokenRefused("The token could not be checked.")


class TokenLease:
    """The timers of one connection's credentials: the notice before they expire, the close after.

    Args:
        expires_at: When they expire, in seconds since the epoch.
        notice: Seconds before ``expires_at`` at which ``on_notice`` is called (at once if later).
        grace: Seconds after ``expires_at`` at which ``on_expired`` is called.
        on_notice: Told how many seconds are left.
        on_expired: Closes the connection.
    """

    __slots__ = ("_expired", "_grace", "_notice", "_on_expired", "_on_notice", "_timers", "expires_at")

    def __init__(
        self,
        expires_at: float,
        *,
        notice: float,
        grace: float,
        on_notice: Callable[[float], None],
        on_expired: Callable[[], None],
    ) -> None:
        self.expires_at: float | None = expires_at
        self._notice = notice
        self._grace = grace
        self._on_notice = on_notice
        self._on_expired = on_expired
        self._timers: tuple[asyncio.TimerHandle, ...] = ()

    def start(self) -> None:
        """Set the timers for the current expiry."""
        self.stop()
        if self.expires_at is None:
            return
        loop = asyncio.get_running_loop()
        left = self.expires_at - time.time()
        self._timers = (
            loop.call_later(max(0.0, left - self._notice), self._notify),
            loop.call_later(max(0.0, left + self._grace), self._on_expired),
        )

    def renew(self, expires_at: float | None) -> None:
        """Move the expiry (``None``: credentials that no longer expire) and set the timers again."""
        self.expires_at = expires_at
        self.start()

    def stop(self) -> None:
        """Cancel the timers: the connection has closed."""
        for timer in self._timers:
            timer.cancel()
        self._timers = ()

    def _notify(self) -> None:
        if self.expires_at is not None:
            self._on_notice(max(0.0, self.expires_at - time.time()))
