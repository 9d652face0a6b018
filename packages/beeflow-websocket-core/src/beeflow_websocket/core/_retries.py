"""One connection's requests in the deployment's ledger: recorded as they start, settled as they end.

The runtime part of :mod:`~beeflow_websocket.core.retries`, used only when ``retry_window`` is set
on a v1 connection. Each request's action starts only once the ledger has recorded it (one Redis
round trip with Redis); how it ended is recorded before its terminal frame is written, so a client
that saw the terminal frame never finds it ``running``; the requests still running when the
connection goes are recorded ``interrupted``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Final

from beeflow_websocket.core.problems import DeliveryUnavailable, DuplicateRequest

if TYPE_CHECKING:
    from uuid import UUID

    from beeflow_websocket.core.problems import WebSocketProblem
    from beeflow_websocket.core.retries.ledger import Outcome, RequestLedger

__all__ = ["ConnectionRetries"]

logger: Final = logging.getLogger("beeflow_websocket.core.retries")


class ConnectionRetries:
    """The requests one connection has started, as the ledger knows them.

    Args:
        ledger: The deployment's record (see :func:`~beeflow_websocket.core.retries.ledger.ledger_of`).
        owner: The connection's user, as text: a ``msg_id`` is remembered per user.
        window: Seconds an entry lives after its last change.
    """

    __slots__ = ("_ledger", "_owner", "_running", "_window")

    def __init__(self, ledger: RequestLedger, *, owner: str, window: float) -> None:
        self._ledger = ledger
        self._owner = owner
        self._window = window
        self._running: set[str] = set()

    async def begin(self, msg_id: UUID) -> WebSocketProblem | None:
        """Record that request ``msg_id`` starts; the problem to end it with when it must not run.

        That is ``duplicate_request`` when the ledger has it already, and ``delivery_unavailable``
        when the ledger cannot be reached: a request that cannot be recorded is not run, since
        running it could run it twice.
        """
        key = str(msg_id)
        try:
            earlier = await self._ledger.begin(self._owner, key, self._window)
        except DeliveryUnavailable as problem:
            logger.error("request %s was not run: the ledger of requests cannot be reached", key)
            return problem
        if earlier is not None:
            return DuplicateRequest(extensions={"outcome": earlier})
        self._running.add(key)
        return None

    async def settle(self, msg_id: UUID, outcome: Outcome) -> None:
        """Record how request ``msg_id`` ended, if it began here."""
        key = str(msg_id)
        if key in self._running:
            self._running.discard(key)
            await self._write([key], outcome)

    async def interrupt(self) -> None:
        """The connection went: the requests still running are recorded ``interrupted``."""
        if self._running:
            keys = sorted(self._running)
            self._running.clear()
            await self._write(keys, "interrupted")

    async def _write(self, keys: list[str], outcome: Outcome) -> None:
        try:
            await self._ledger.settle(self._owner, keys, outcome, self._window)
        except DeliveryUnavailable:
            # The request has ended regardless; a retry within the window then hears "running".
            logger.warning("the ledger of requests could not record %d request(s) as %s", len(keys), outcome)
