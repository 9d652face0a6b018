"""What the runtime needs of a stream history, whichever engine keeps it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from beeflow_websocket.core.history.positions import HistoryPolicy
    from beeflow_websocket.core.history.replay import Replay
    from beeflow_websocket.core.transport import OutboundEvent

__all__ = ["History", "history_of"]


class History(Protocol):
    """The history of the streams an engine reaches (its ``history`` attribute)."""

    policy: HistoryPolicy
    """Which streams keep a history, and how much of it."""

    async def append(self, stream: str, event: OutboundEvent) -> OutboundEvent:
        """Number ``event`` in ``stream`` and keep it; the event with its position.

        Raises:
            DeliveryUnavailable: The store cannot take it now.
        """
        ...

    async def read(self, stream: str, epoch: str, after: int) -> Replay:
        """The events of ``stream`` after offset ``after`` of ``epoch``, or why they cannot be had.

        Raises:
            DeliveryUnavailable: The store cannot be read now.
        """
        ...

    async def mark(self, stream: str) -> None:
        """Leave a kick's mark in ``stream``: no resume from before it succeeds.

        Raises:
            DeliveryUnavailable: The store cannot take it now.
        """
        ...


def history_of(delivery: object) -> History | None:
    """The history ``delivery`` keeps of its streams, if any."""
    history: History | None = getattr(delivery, "history", None)
    return history
