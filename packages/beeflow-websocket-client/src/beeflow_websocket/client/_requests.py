"""The requests a client has made and not yet seen end: what each has received, and how it ended.

A request is registered when it is made, sent at once or queued while offline, and ends with its
terminal frame (``"final": true``), a client-side failure, or its caller giving up. Frames that
carry ``final`` belong to one of this connection's own requests; a request whose caller gave up
(timed out, cancelled, left a stream) still gets its last frames from the server, and they are
dropped here, since nobody waits for them.

A request made with ``retry`` outlives the connection it was sent on: when that connection goes
and another will follow, it waits to be sent again, unchanged, since its ``msg_id`` is what lets
the server (with its ``retry_window``) tell a request it already started from one it never saw.
It keeps what it has received, so its caller gets the events of every attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from typing import Any, Final, cast

from beeflow_websocket.client._wire import COMPLETE_EVENT
from beeflow_websocket.client.errors import ClientError, ProblemError, QueueFull
from beeflow_websocket.client.events import ReceivedEvent

__all__ = ["Pending", "RequestTable"]

_END: Final = object()


class Pending:
    """One request, from being made until its terminal frame or its caller leaves.

    Attributes:
        req_id: Its ``req_id``.
        envelope: The frame to send; sent again as it is, the same ``msg_id`` included.
        retry: Whether a lost connection sends it again on the next one instead of failing it.
        sent: Whether it has been written to the connection that is open now.
        done: Whether it has ended (its terminal frame came, or it failed).
    """

    __slots__ = ("_items", "done", "envelope", "req_id", "retry", "sent")

    def __init__(self, envelope: dict[str, Any], *, retry: bool = False) -> None:
        self.envelope = envelope
        self.req_id: str = envelope["req_id"]
        self.retry = retry
        self.sent = False
        self.done = False
        self._items: asyncio.Queue[object] = asyncio.Queue()

    def event(self, event: ReceivedEvent) -> None:
        self._items.put_nowait(event)

    def finish(self) -> None:
        self.done = True
        self._items.put_nowait(_END)

    def fail(self, error: ClientError) -> None:
        self.done = True
        self._items.put_nowait(error)

    async def next(self) -> ReceivedEvent | None:
        """The next event; ``None`` once the request has ended well.

        Raises:
            ClientError: How it failed: the server's problem, or the connection's loss.
        """
        item = await self._items.get()
        if item is _END:
            return None
        if isinstance(item, ClientError):
            raise item
        return cast("ReceivedEvent", item)


class RequestTable:
    """Every request not yet ended, by ``req_id``, and the lines of those waiting to be sent.

    Two lines wait for the next connection: the requests made offline (bounded by ``queue_limit``),
    and those made with ``retry`` that a lost connection took with it (not bounded: they were
    admitted when made, and the limit is about what the application piles up while offline).

    Args:
        queue_limit: How many requests may wait while the client is offline.
    """

    __slots__ = ("_again", "_pending", "_queue_limit", "_waiting")

    def __init__(self, queue_limit: int) -> None:
        self._queue_limit = queue_limit
        self._pending: dict[str, Pending] = {}  # in the order they were made
        self._waiting: deque[Pending] = deque()
        self._again: deque[Pending] = deque()

    def add(self, pending: Pending, *, online: bool) -> None:
        """Register ``pending``; offline, it waits to be sent.

        Raises:
            QueueFull: Offline, with ``queue_limit`` requests waiting already.
        """
        if not online:
            if len(self._waiting) >= self._queue_limit:
                raise QueueFull(f"{self._queue_limit} requests wait for the connection already")
            self._waiting.append(pending)
        self._pending[pending.req_id] = pending

    def next_waiting(self) -> Pending | None:
        """Take the next request that waits for a connection; ``None`` when none waits.

        Those to be sent again come first, in the order they were made (their first attempt went
        before anything made offline since), then those made offline, oldest first. One at a time,
        so that a connection lost halfway leaves the rest waiting for the next one.
        """
        for line in (self._again, self._waiting):
            if line:
                return line.popleft()
        return None

    def forget(self, pending: Pending) -> None:
        """Its caller left: its frames are dropped from now on, and it is sent no more."""
        self._pending.pop(pending.req_id, None)
        if not pending.sent:  # waiting: it leaves its line, and the server never hears of it
            for line in (self._again, self._waiting):
                with contextlib.suppress(ValueError):  # it may have been sent meanwhile
                    line.remove(pending)

    def take(self, frame: dict[str, Any], event: ReceivedEvent | None) -> bool:
        """Hand a frame of one of this connection's requests to it; ``False`` if it is not one.

        ``event`` is the frame read as an event, ``None`` for a problem.
        """
        final = frame.get("final")
        if final is None:
            return False  # a push, another connection's request, or a frame no request can own
        req_id = frame.get("req_id")
        pending = self._pending.get(req_id) if isinstance(req_id, str) else None
        if pending is None:
            return True  # its caller left; nobody waits for it
        if event is None:
            if final is True:
                pending.fail(ProblemError(frame))
            else:
                return False  # a problem that does not end the request: the application hears of it
        elif event.event != COMPLETE_EVENT:
            pending.event(event)
        if final is True:
            del self._pending[pending.req_id]
            if event is not None:
                pending.finish()
        return True

    def lose(self, error: ClientError, *, for_good: bool = False) -> None:
        """The connection went: every request sent on it fails, or waits to be sent again; the rest wait on.

        One made with ``retry`` waits to be sent again, with those waiting so since an earlier
        loss, in the order they were made; ``for_good`` (no connection follows: a terminal close
        code) fails it too, as there is nowhere to send it.
        """
        again = set(self._again)
        for req_id, pending in list(self._pending.items()):
            if not pending.sent:
                continue
            if pending.retry and not for_good:
                pending.sent = False
                again.add(pending)
            else:
                del self._pending[req_id]
                pending.fail(error)
        self._again = deque(pending for pending in self._pending.values() if pending in again)

    def close(self, error: ClientError) -> None:
        """The client closed: every request fails, sent, made offline or waiting to be sent again."""
        for pending in self._pending.values():
            pending.fail(error)
        self._pending.clear()
        self._waiting.clear()
        self._again.clear()
