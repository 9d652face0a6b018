"""The connection dispatcher: the whole protocol, for one connection, with no I/O of its own.

An adapter creates one :class:`ConnectionDispatcher` per accepted connection and gives it a
:class:`~beeflow_websocket.core.transport.Transport`. It calls :meth:`~ConnectionDispatcher.receive`
for each frame the client sends, :meth:`~ConnectionDispatcher.deliver` for each event another
connection routed to it, and :meth:`~ConnectionDispatcher.close` when the client has gone. Everything
else is decided here, once for every framework: the size limit, decoding, envelope and payload
validation, action lookup, running the action, recipient resolution, ``msg_id`` and ``seq``, and the
Problem Details frame for every failure. The connection always survives bad input.

Frames wait in a bounded queue for one of ``max_concurrent_actions`` workers. ``receive`` returns as
soon as the frame is queued, so the adapter goes on reading and notices a disconnect while an action
is still running; it blocks only while the queue is full, which slows a flooding client down.
"""

from __future__ import annotations

import asyncio
import logging
from time import perf_counter
from typing import TYPE_CHECKING, Final
from uuid import UUID

from beeflow_websocket.core import _builtins  # noqa: F401 - registers health and websocket
from beeflow_websocket.core._wire import (
    decode_object,
    encode_event,
    encode_problem,
    quoted,
    read_req_id,
    stamp,
    validate_envelope,
    validate_payload,
)
from beeflow_websocket.core.action_registry import Action, ActionContext, ActionRegistryMeta, UserId
from beeflow_websocket.core.exceptions import ActionDoesNotExist
from beeflow_websocket.core.payloads import ActionMessage
from beeflow_websocket.core.problems import InternalError, MessageTooLarge, UnknownAction, WebSocketProblem
from beeflow_websocket.core.recipient_registry import RecipientRegistryMeta
from beeflow_websocket.core.settings import DEFAULT_SETTINGS, DispatcherSettings

if TYPE_CHECKING:
    from beeflow_websocket.core.event_registry import EventPluginProtocol
    from beeflow_websocket.core.payloads import WebSocketActionPayload
    from beeflow_websocket.core.transport import OutboundEvent, Transport

__all__ = ["ConnectionDispatcher"]

logger: Final = logging.getLogger(__name__)
_ABSENT: Final = object()


class _ConnectionGone(Exception):
    """Writing to this connection failed: the client has gone. Not the action's fault."""


class ConnectionDispatcher:
    """Runs the protocol for one connection.

    Args:
        transport: Sends frames for this connection and routes events to others.
        websocket_id: This connection's id, unique among live connections of the deployment.
        user_id: The authenticated user's id.
        path: The connection path, sent as ``instance`` in error frames.
        settings: Protocol settings shared by the adapter's connections.
    """

    __slots__ = ("_closed", "_pending", "_seq", "_workers", "context", "path", "settings", "transport")

    def __init__(
        self,
        transport: Transport,
        *,
        websocket_id: str,
        user_id: UserId,
        path: str,
        settings: DispatcherSettings = DEFAULT_SETTINGS,
    ) -> None:
        self.transport = transport
        self.context = ActionContext(websocket_id=websocket_id, user_id=user_id)
        self.path = path
        self.settings = settings
        self._seq = 0
        self._closed = False
        self._pending: asyncio.Queue[str | bytes] = asyncio.Queue(settings.max_pending_messages)
        self._workers: list[asyncio.Task[None]] = []

    @property
    def websocket_id(self) -> str:
        """This connection's id."""
        return self.context.websocket_id

    @property
    def seq(self) -> int:
        """The ``seq`` of the last event frame this connection was sent; 0 before the first."""
        return self._seq

    @property
    def closed(self) -> bool:
        """Whether the connection has gone: nothing is received or sent any more."""
        return self._closed

    async def receive(self, frame: str | bytes) -> None:
        """Accept one frame from the client; it is handled in order by the connection's workers.

        Returns as soon as the frame is queued. Waits while ``max_pending_messages`` frames are
        already waiting, which is the backpressure that slows a flooding client down. Frames that
        arrive after :meth:`close` are ignored.
        """
        if self._closed:
            return
        if not self._workers:
            self._workers = [
                asyncio.create_task(self._work(), name=f"beeflow-websocket {self.websocket_id} worker {n}")
                for n in range(self.settings.max_concurrent_actions)
            ]
        await self._pending.put(frame)

    async def wait_idle(self) -> None:
        """Wait until every frame received so far has been handled (its events and errors sent)."""
        await self._pending.join()

    async def close(self) -> None:
        """The client has gone: stop the running actions and send nothing more.

        Each running action's generator is closed, so its ``finally`` blocks run; frames still
        waiting are dropped. A normal disconnect logs no error.
        """
        if self._closed:
            return
        self._closed = True
        for worker in self._workers:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)

    async def deliver(self, event: OutboundEvent) -> None:
        """Send an event to this connection, numbered with its next ``seq``; dropped once closed."""
        if self._closed:
            return
        self._seq += 1
        await self._write(stamp(event, self._seq))

    async def _write(self, frame: str) -> None:
        try:
            await self.transport.send(frame)
        except Exception as error:
            self._closed = True
            raise _ConnectionGone from error

    async def _work(self) -> None:
        while True:
            frame = await self._pending.get()
            try:
                if not self._closed:
                    await self._handle(frame)
            except _ConnectionGone:
                logger.debug(
                    "connection %s went away while being written to", self.websocket_id, exc_info=True
                )
            finally:
                self._pending.task_done()

    async def _handle(self, frame: str | bytes) -> None:
        req_id: UUID | None = None
        try:
            if _exceeds(frame, self.settings.max_message_size):
                raise MessageTooLarge(f"The message is larger than {self.settings.max_message_size} bytes.")
            data = decode_object(frame)
            req_id = read_req_id(data)
            message = validate_envelope(data)
            try:
                action_class = ActionRegistryMeta.registry[message.action]
            except ActionDoesNotExist:
                raise UnknownAction(
                    f"No action is registered under the name {quoted(message.action)}."
                ) from None
        except WebSocketProblem as problem:
            logger.debug("rejected a frame on connection %s: %s", self.websocket_id, problem.code)
            await self._send_problem(problem, req_id)
            return
        await self._run(action_class(), message)

    async def _run(self, action: object, message: WebSocketActionPayload) -> None:
        # The action is typed loosely on purpose: whatever a registered class does wrong (execute
        # missing, not an async generator, yielding something that is not an event) is the
        # application's bug and must end in a logged 500, never in a dead connection.
        started = perf_counter()
        events: object = None
        count = 0
        outcome = "cancelled"
        try:
            argument: object = message
            if isinstance(action, Action):
                payload = validate_payload(type(action).payload_model, message)
                argument = ActionMessage(
                    msg_id=message.msg_id, req_id=message.req_id, action=message.action, payload=payload
                )
            events = action.execute(argument, self.context)  # type: ignore[attr-defined]
            async for event in events:  # type: ignore[attr-defined]
                await self._emit(event)
                count += 1
            outcome = "ok"
        except _ConnectionGone:
            outcome = "cancelled"
            raise
        except WebSocketProblem as problem:
            outcome = f"answered {problem.status} {problem.code}"
            await self._send_problem(problem, message.req_id)
        except Exception:
            outcome = "failed"
            logger.exception(
                "action %r failed after %.1f ms (req_id=%s, events=%d)",
                message.action,
                _elapsed_ms(started),
                message.req_id,
                count,
                extra=_record(message, started, outcome, count),
            )
            await self._send_problem(InternalError(), message.req_id)
        finally:
            await _close(events, message)
            if outcome != "failed":
                logger.info(
                    "action %r %s in %.1f ms (req_id=%s, events=%d)",
                    message.action,
                    outcome,
                    _elapsed_ms(started),
                    message.req_id,
                    count,
                    extra=_record(message, started, outcome, count),
                )

    async def _emit(self, event: EventPluginProtocol) -> None:
        resolver = RecipientRegistryMeta.registry[event.recipient]
        websocket_ids = await resolver().resolve(event.recipient_id)
        outbound = encode_event(event)
        others = dict.fromkeys(websocket_ids)
        if others.pop(self.context.websocket_id, _ABSENT) is not _ABSENT:
            await self.deliver(outbound)
        if others:
            await self.transport.route(list(others), outbound)

    async def _send_problem(self, problem: WebSocketProblem, req_id: UUID | None) -> None:
        if self._closed:
            return
        base_url = self.settings.problem_type_base_url
        try:
            frame = encode_problem(problem, req_id=req_id, instance=self.path, problem_type_base_url=base_url)
        except ValueError:
            logger.exception(
                "problem %s has extension members JSON cannot carry (req_id=%s)", problem.code, req_id
            )
            frame = encode_problem(
                InternalError(), req_id=req_id, instance=self.path, problem_type_base_url=base_url
            )
        await self._write(frame)


def _exceeds(frame: str | bytes, limit: int) -> bool:
    """Whether the frame is larger than ``limit`` bytes, counting text as UTF-8."""
    if isinstance(frame, bytes) or len(frame) > limit:
        return len(frame) > limit
    # A character takes at most 4 bytes in UTF-8: only long texts need counting.
    return len(frame) * 4 > limit and len(frame.encode("utf-8", "surrogatepass")) > limit


def _elapsed_ms(started: float) -> float:
    return (perf_counter() - started) * 1000


def _record(message: WebSocketActionPayload, started: float, outcome: str, events: int) -> dict[str, object]:
    """Structured fields of the per-action log record, for log handlers that index them."""
    return {
        "action": message.action,
        "req_id": str(message.req_id),
        "duration_ms": round(_elapsed_ms(started), 3),
        "outcome": outcome,
        "events": events,
    }


async def _close(events: object, message: WebSocketActionPayload) -> None:
    """Close what ``execute`` returned now, rather than leave it to the garbage collector.

    An async generator's ``finally`` blocks then run on this task, also when emitting one of its
    events failed or the client went away; a coroutine returned by mistake is closed without a
    "never awaited" warning. A failure while closing is logged: the request has been answered.
    """
    try:
        if (aclose := getattr(events, "aclose", None)) is not None:
            await aclose()
        elif (close := getattr(events, "close", None)) is not None:
            close()
    except Exception:
        logger.exception("action %r failed while closing (req_id=%s)", message.action, message.req_id)
