"""Running one request's action: payload validation, the events it yields, and how it ends.

However an action ends, the request is accounted for: its events are handed to ``emit`` as they are
yielded; a :class:`~beeflow_websocket.core.problems.WebSocketProblem` it raises is answered; any other
failure, ``SystemExit`` and ``KeyboardInterrupt`` included, is logged with who triggered it and
answered 500; a request stopped by its client (``beeflow.cancel``) or by its time limit is answered
with the problem that stopped it; only the cancellation of the connection's own task (its client
left) ends it silently. Its generator is always closed here, so its ``finally`` blocks run on the
connection's task, before the request's terminal frame is sent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from time import perf_counter
from typing import TYPE_CHECKING, Final, Literal

from beeflow_websocket.core._wire import validate_payload
from beeflow_websocket.core.action_registry import Action, ActionContext
from beeflow_websocket.core.payloads import ActionMessage
from beeflow_websocket.core.problems import ActionTimeout, InternalError, WebSocketProblem
from beeflow_websocket.core.protocol import Reply

if TYPE_CHECKING:
    from beeflow_websocket.core.event_registry import EventPluginProtocol
    from beeflow_websocket.core.payloads import WebSocketActionPayload

__all__ = ["RunningRequest", "run_action"]

# Action records keep the logger they were documented under.
logger: Final = logging.getLogger("beeflow_websocket.core.dispatcher")

type Emit = Callable[[EventPluginProtocol, RunningRequest], Awaitable[None]]
type Answer = Callable[[WebSocketProblem, RunningRequest], Awaitable[None]]
type Complete = Callable[[RunningRequest], Awaitable[None]]


class RunningRequest(Reply):
    """One request, from the moment it is received until its action has ended.

    It is also the protocol's count of its frames to its connection (a :class:`Reply`), which only
    protocol v1 reads: one object per request rather than two.

    Attributes:
        action_class: The registered class that serves it.
        message: Its validated envelope.
        replied: Whether it is answered in protocol v1: its frames carry ``final``, and it ends
            with exactly one terminal frame.
        stopping: The problem it is being stopped with (cancelled, timed out), once it is.
    """

    __slots__ = ("_cancelled", "action_class", "message", "phase", "replied", "stopping", "task")

    def __init__(self, action_class: type, message: WebSocketActionPayload, replied: bool) -> None:
        # Positional: a keyword makes the call build a dict (306 ns instead of 202, measured).
        # The Reply's members are set here rather than by a call of its __init__ (150 ns).
        self.req_id = message.req_id
        self.queued = 0
        self.sent = 0
        self.ended = False
        self.replied = replied
        self.action_class = action_class
        self.message = message
        self.stopping: WebSocketProblem | None = None
        self.phase: Literal["waiting", "running", "over"] = "waiting"
        self.task: asyncio.Task[object] | None = None
        self._cancelled = False  # this request cancelled its task; taken back once delivered

    def stop(self, problem: WebSocketProblem) -> Literal["waiting", "running", "over"]:
        """Stop the request, which then ends with ``problem``; says where it was.

        A running action's task is cancelled: the action's generator gets ``CancelledError`` where
        it waits and its ``finally`` runs, and :func:`run_action` answers ``problem``. A request still
        waiting for a slot is only marked: it never runs, and its caller answers ``problem`` now.
        Nothing happens to a request that is over, or being stopped already.
        """
        if self.phase != "over" and self.stopping is None:
            self.stopping = problem
            if self.phase == "running" and self.task is not None:
                self._cancelled = True
                self.task.cancel()
        return self.phase

    def _uncancel(self) -> None:
        """Take back this request's cancellation of its task, so the task serves the next request."""
        if self._cancelled and self.task is not None:
            self._cancelled = False
            self.task.uncancel()


async def run_action(
    run: RunningRequest,
    context: ActionContext,
    *,
    emit: Emit,
    answer: Answer,
    complete: Complete,
    default_timeout: float | None = None,
) -> None:
    """Run one request for the connection of ``context``, and end it with its terminal frame.

    Args:
        run: The request; a fresh instance of its class serves it.
        context: Who asks: the connection and its user.
        emit: Routes one yielded event.
        answer: Sends the problem that ends the request to the asking connection.
        complete: Ends a v1 request whose action finished without a problem (protocol 0 sends nothing).
        default_timeout: Seconds an action without a ``timeout=`` of its own may run; ``None``: no limit.
    """
    # The action is typed loosely on purpose: whatever a registered class does wrong (execute
    # missing, not an async generator, yielding something that is not an event) is the
    # application's bug and must end in a logged 500, never in a dead connection.
    message = run.message
    started = perf_counter()
    events: object = None
    count = 0
    outcome = "cancelled"
    ending: WebSocketProblem | None = None
    limit = getattr(run.action_class, "action_timeout", None) or default_timeout
    timer = None if limit is None else asyncio.get_running_loop().call_later(limit, run.stop, ActionTimeout())
    run.phase = "running"
    run.task = asyncio.current_task()
    try:
        action: object = run.action_class()
        argument: object = message
        if isinstance(action, Action):
            payload = validate_payload(type(action).payload_model, message)
            argument = ActionMessage(
                msg_id=message.msg_id, req_id=message.req_id, action=message.action, payload=payload
            )
        events = action.execute(argument, context)  # type: ignore[attr-defined]
        async for event in events:  # type: ignore[attr-defined]
            if run.stopping is not None:
                break  # it swallowed the cancellation and went on: what it yields now is not sent
            await emit(event, run)
            count += 1
        outcome = "ok"
    except WebSocketProblem as problem:
        ending = problem
    except asyncio.CancelledError:
        if run.stopping is not None and run._cancelled:
            run._uncancel()
            if _cancelled_by_us():
                raise  # the connection is closing as well
            ending = run.stopping
        elif _cancelled_by_us():
            raise
        else:
            # The action awaited something another task cancelled: its failure, not a disconnect.
            outcome = "failed"
            ending = _failed(message, context, started, count)
    except (Exception, SystemExit, KeyboardInterrupt):
        # SystemExit and KeyboardInterrupt raised by an action (argparse on client input, a
        # sys.exit in shared code) are its failure too: left to propagate they end the server's
        # process or its event loop. A real Ctrl-C reaches the server's own signal handler.
        outcome = "failed"
        ending = _failed(message, context, started, count)
    finally:
        run.phase = "over"
        run.task = None
        if timer is not None:
            timer.cancel()
        if run.stopping is not None:
            if outcome == "ok":
                ending = run.stopping  # it caught the cancellation and ended on its own
            run._uncancel()  # a cancellation the action swallowed
        if ending is not None and outcome != "failed":
            outcome = f"answered {ending.status} {ending.code}"
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
    if ending is not None:
        await answer(ending, run)
    elif run.replied:
        await complete(run)


def _failed(
    message: WebSocketActionPayload, context: ActionContext, started: float, count: int
) -> WebSocketProblem:
    """Log the exception being handled with who triggered it; the request ends with a 500."""
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
    return InternalError()


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
