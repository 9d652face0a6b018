"""Running one request's action: payload validation, the events it yields, and how it ends.

However an action ends, the request is accounted for: its events are handed to ``emit`` as they are
yielded; a :class:`~beeflow_websocket.core.problems.WebSocketProblem` it raises is answered; any other
failure, ``SystemExit`` and ``KeyboardInterrupt`` included, is logged with who triggered it and
answered 500; only the cancellation of the connection's own task (its client left) ends it silently.
Its generator is always closed here, so its ``finally`` blocks run on the connection's task.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from time import perf_counter
from typing import TYPE_CHECKING, Final
from uuid import UUID

from beeflow_websocket.core._wire import validate_payload
from beeflow_websocket.core.action_registry import Action, ActionContext
from beeflow_websocket.core.payloads import ActionMessage
from beeflow_websocket.core.problems import InternalError, WebSocketProblem

if TYPE_CHECKING:
    from beeflow_websocket.core.event_registry import EventPluginProtocol
    from beeflow_websocket.core.payloads import WebSocketActionPayload

__all__ = ["run_action"]

# Action records keep the logger they were documented under.
logger: Final = logging.getLogger("beeflow_websocket.core.dispatcher")

type Emit = Callable[[EventPluginProtocol], Awaitable[None]]
type Answer = Callable[[WebSocketProblem, UUID | None], Awaitable[None]]


async def run_action(
    action_class: type, message: WebSocketActionPayload, context: ActionContext, *, emit: Emit, answer: Answer
) -> None:
    """Run one request of ``action_class`` for the connection of ``context``.

    Args:
        action_class: The registered class; a fresh instance serves the request.
        message: The validated envelope.
        context: Who asks: the connection and its user.
        emit: Routes one yielded event.
        answer: Sends a problem frame to the asking connection.
    """
    # The action is typed loosely on purpose: whatever a registered class does wrong (execute
    # missing, not an async generator, yielding something that is not an event) is the
    # application's bug and must end in a logged 500, never in a dead connection.
    started = perf_counter()
    events: object = None
    count = 0
    outcome = "cancelled"
    try:
        action: object = action_class()
        argument: object = message
        if isinstance(action, Action):
            payload = validate_payload(type(action).payload_model, message)
            argument = ActionMessage(
                msg_id=message.msg_id, req_id=message.req_id, action=message.action, payload=payload
            )
        events = action.execute(argument, context)  # type: ignore[attr-defined]
        async for event in events:  # type: ignore[attr-defined]
            await emit(event)
            count += 1
        outcome = "ok"
    except WebSocketProblem as problem:
        outcome = f"answered {problem.status} {problem.code}"
        await answer(problem, message.req_id)
    except asyncio.CancelledError:
        if _cancelled_by_us():
            raise
        # The action awaited something another task cancelled: its failure, not a disconnect.
        outcome = "failed"
        await _fail(message, context, started, count, answer)
    except (Exception, SystemExit, KeyboardInterrupt):
        # SystemExit and KeyboardInterrupt raised by an action (argparse on client input, a
        # sys.exit in shared code) are its failure too: left to propagate they end the server's
        # process or its event loop. A real Ctrl-C reaches the server's own signal handler.
        outcome = "failed"
        await _fail(message, context, started, count, answer)
    finally:
        if outcome != "ok":
            # An exhausted generator has nothing left to close.
            await _close(events, message)
        if outcome != "failed" and logger.isEnabledFor(logging.INFO):
            logger.info(
                "action %r %s in %.1f ms (req_id=%s, events=%d)",
                message.action,
                outcome,
                _elapsed_ms(started),
                message.req_id,
                count,
                extra=_record(message, started, outcome, count),
            )


async def _fail(
    message: WebSocketActionPayload, context: ActionContext, started: float, count: int, answer: Answer
) -> None:
    """Log the exception being handled with who triggered it, and answer 500."""
    record = _record(message, started, "failed", count)
    record.update(websocket_id=context.websocket_id, user_id=str(context.user_id))
    logger.exception(
        "action %r failed after %.1f ms (req_id=%s, events=%d, connection=%s, user=%s)",
        message.action,
        _elapsed_ms(started),
        message.req_id,
        count,
        context.websocket_id,
        context.user_id,
        extra=record,
    )
    await answer(InternalError(), message.req_id)


def _cancelled_by_us() -> bool:
    """Whether the running task itself is being cancelled (``close()`` cancels a connection's tasks)."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


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
    except (Exception, SystemExit, KeyboardInterrupt):
        logger.exception("action %r failed while closing (req_id=%s)", message.action, message.req_id)
