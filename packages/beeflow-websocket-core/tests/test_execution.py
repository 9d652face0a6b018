"""Running one request's action (beeflow_websocket.core._execution), without a connection around it."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import ClassVar
from uuid import UUID, uuid4

import pytest
from pydantic import BaseModel, JsonValue

from beeflow_websocket.core._execution import RunningRequest, run_action
from beeflow_websocket.core.action_registry import Action, ActionContext
from beeflow_websocket.core.event_registry import Event, EventPluginProtocol
from beeflow_websocket.core.payloads import ActionMessage, WebSocketActionPayload
from beeflow_websocket.core.problems import (
    ActionTimeout,
    InternalError,
    InvalidActionPayload,
    RequestCancelled,
    WebSocketProblem,
)

pytestmark = pytest.mark.anyio

CONTEXT = ActionContext(websocket_id="c1", user_id=42)


class Ticked(Event, name="execution.ticked"):
    pass


class Record:
    """What run_action hands out: events to route, problems to answer."""

    def __init__(self) -> None:
        self.events: list[EventPluginProtocol] = []
        self.answers: list[tuple[WebSocketProblem, UUID | None]] = []

        self.completed: list[UUID] = []
        self.runs: list[RunningRequest] = []

    async def emit(self, event: EventPluginProtocol, run: RunningRequest) -> None:
        self.events.append(event)

    async def answer(self, problem: WebSocketProblem, run: RunningRequest) -> None:
        self.answers.append((problem, run.req_id))

    async def complete(self, run: RunningRequest) -> None:
        self.completed.append(run.req_id)

    async def run(
        self, action_class: type, request: WebSocketActionPayload | None = None, **options: float | None
    ) -> RunningRequest:
        """Run one request of ``action_class``; return it."""
        run = RunningRequest(action_class, request or message(), False)
        self.runs.append(run)
        await run_action(run, CONTEXT, emit=self.emit, answer=self.answer, complete=self.complete, **options)
        return run


def message(payload: dict[str, JsonValue] | None = None) -> WebSocketActionPayload:
    return WebSocketActionPayload(msg_id=uuid4(), req_id=uuid4(), action="tick", payload=payload or {})


def tick(n: int) -> Ticked:
    return Ticked(recipient="websocket", recipient_id="c1", payload={"n": n})


async def test_events_are_emitted_in_the_order_they_are_yielded() -> None:
    class Tick:
        async def execute(
            self, message: WebSocketActionPayload, context: ActionContext
        ) -> AsyncIterator[Ticked]:
            for n in range(3):
                yield tick(n)

    record = Record()
    await record.run(Tick, message())

    assert [event.payload for event in record.events] == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert record.answers == []


async def test_a_typed_action_gets_its_validated_model_and_a_bad_payload_is_answered() -> None:
    class Count(BaseModel):
        n: int

    seen: list[object] = []

    class Typed(Action[Count], name="execution.typed"):
        async def execute(
            self, message: ActionMessage[Count], context: ActionContext
        ) -> AsyncIterator[Ticked]:
            seen.append(message.payload)
            yield tick(message.payload.n)

    record = Record()
    good, bad = message({"n": 5}), message({"n": "five"})
    await record.run(Typed, good)
    await record.run(Typed, bad)

    assert seen == [Count(n=5)]
    [(problem, req_id)] = record.answers
    assert (type(problem), req_id) == (InvalidActionPayload, bad.req_id)


async def test_a_failure_after_some_events_is_logged_with_who_asked_answered_500_and_closed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    closed: list[bool] = []

    class Breaks:
        async def execute(
            self, message: WebSocketActionPayload, context: ActionContext
        ) -> AsyncIterator[Ticked]:
            try:
                yield tick(1)
                raise RuntimeError("the secret ingredient")
            finally:
                closed.append(True)

    record = Record()
    request = message()
    await record.run(Breaks, request)

    assert len(record.events) == 1
    [(problem, req_id)] = record.answers
    assert (type(problem), req_id) == (InternalError, request.req_id)
    assert closed == [True]
    [failure] = [entry for entry in caplog.records if entry.levelno == logging.ERROR]
    assert (failure.websocket_id, failure.user_id, failure.events) == ("c1", "42", 1)  # type: ignore[attr-defined]
    assert failure.exc_info is not None


async def test_the_connection_s_own_cancellation_ends_the_action_silently_and_closes_it() -> None:
    started, closed = asyncio.Event(), []

    class Waits:
        async def execute(
            self, message: WebSocketActionPayload, context: ActionContext
        ) -> AsyncIterator[Ticked]:
            try:
                started.set()
                await asyncio.sleep(60)
                yield tick(1)
            finally:
                closed.append(True)

    record = Record()
    task = asyncio.create_task(record.run(Waits))
    await started.wait()
    task.cancel()

    with pytest.raises(asyncio.CancelledError):
        await task
    assert (record.events, record.answers, closed) == ([], [], [True])


async def test_a_cancellation_that_is_not_the_connection_s_is_the_action_s_failure() -> None:
    class AwaitsACancelledTask:
        async def execute(
            self, message: WebSocketActionPayload, context: ActionContext
        ) -> AsyncIterator[Ticked]:
            other = asyncio.create_task(asyncio.sleep(60))
            other.cancel()
            await other
            yield tick(1)

    record = Record()
    await record.run(AwaitsACancelledTask, message())

    assert [type(problem) for problem, _ in record.answers] == [InternalError]


class Streams:
    """Yields a tick every 10 ms, up to 50, noting when its ``finally`` ran."""

    finished: ClassVar[list[float]] = []

    async def execute(self, message: WebSocketActionPayload, context: ActionContext) -> AsyncIterator[Ticked]:
        try:
            for n in range(50):
                yield tick(n)
                await asyncio.sleep(0.01)
        finally:
            Streams.finished.append(asyncio.get_running_loop().time())


async def test_a_stopped_request_closes_its_generator_and_ends_with_the_stopping_problem() -> None:
    record = Record()
    Streams.finished = []
    task = asyncio.create_task(record.run(Streams))
    running = await _running(record, events=5)
    assert running.stop(RequestCancelled()) == "running"
    await task

    assert len(Streams.finished) == 1
    assert [type(problem) for problem, _ in record.answers] == [RequestCancelled]
    assert record.completed == []
    assert 5 <= len(record.events) <= 6
    assert running.stop(RequestCancelled()) == "over"


def test_a_request_stopped_before_it_ran_is_only_marked() -> None:
    waiting = RunningRequest(Streams, message(), False)
    assert waiting.stop(RequestCancelled()) == "waiting"
    assert isinstance(waiting.stopping, RequestCancelled)


async def test_a_request_past_its_time_limit_is_stopped_and_answered_504() -> None:
    class Slow(Action, name="execution.slow", timeout=0.05):
        async def execute(self, message: ActionMessage, context: ActionContext) -> AsyncIterator[Ticked]:
            yield tick(1)
            await asyncio.sleep(60)
            yield tick(2)

    record = Record()
    await asyncio.wait_for(record.run(Slow), 5)
    assert [type(problem) for problem, _ in record.answers] == [ActionTimeout]
    assert len(record.events) == 1


async def test_the_settings_default_time_limit_applies_to_an_action_without_its_own() -> None:
    record = Record()
    Streams.finished = []
    await asyncio.wait_for(record.run(Streams, default_timeout=0.05), 5)
    assert [type(problem) for problem, _ in record.answers] == [ActionTimeout]
    assert len(Streams.finished) == 1


async def test_an_action_that_swallows_its_cancellation_ends_with_the_problem_and_sends_no_more() -> None:
    class Stubborn:
        async def execute(
            self, message: WebSocketActionPayload, context: ActionContext
        ) -> AsyncIterator[Ticked]:
            for n in range(3):
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.sleep(60 if n == 0 else 0)
                yield tick(n)

    record = Record()
    task = asyncio.create_task(record.run(Stubborn))
    running = await _running(record)
    running.stop(RequestCancelled())
    await task

    assert [type(problem) for problem, _ in record.answers] == [RequestCancelled]
    assert record.events == []
    # The task that served it took its cancellation back: it can serve the next request.
    assert not task.cancelled()


async def test_a_stop_during_the_connection_s_own_cancellation_still_ends_silently() -> None:
    record = Record()
    task = asyncio.create_task(record.run(Streams))
    running = await _running(record)
    running.stop(RequestCancelled())
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert record.answers == []


async def _running(record: Record, *, events: int = 0) -> RunningRequest:
    """The request ``record`` runs, once its action has started and emitted ``events`` events."""
    for _ in range(2000):
        await asyncio.sleep(0.001)
        if record.runs and record.runs[-1].phase == "running" and len(record.events) >= events:
            return record.runs[-1]
    raise AssertionError("the request never got that far")
