"""Running one request's action (beeflow_websocket.core._execution), without a connection around it."""

import asyncio
import logging
from collections.abc import AsyncIterator
from uuid import UUID, uuid4

import pytest
from pydantic import BaseModel, JsonValue

from beeflow_websocket.core._execution import run_action
from beeflow_websocket.core.action_registry import Action, ActionContext
from beeflow_websocket.core.event_registry import Event, EventPluginProtocol
from beeflow_websocket.core.payloads import ActionMessage, WebSocketActionPayload
from beeflow_websocket.core.problems import InternalError, InvalidActionPayload, WebSocketProblem

pytestmark = pytest.mark.anyio

CONTEXT = ActionContext(websocket_id="c1", user_id=42)


class Ticked(Event, name="execution.ticked"):
    pass


class Record:
    """What run_action hands out: events to route, problems to answer."""

    def __init__(self) -> None:
        self.events: list[EventPluginProtocol] = []
        self.answers: list[tuple[WebSocketProblem, UUID | None]] = []

    async def emit(self, event: EventPluginProtocol) -> None:
        self.events.append(event)

    async def answer(self, problem: WebSocketProblem, req_id: UUID | None) -> None:
        self.answers.append((problem, req_id))


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
    await run_action(Tick, message(), CONTEXT, emit=record.emit, answer=record.answer)

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
    await run_action(Typed, good, CONTEXT, emit=record.emit, answer=record.answer)
    await run_action(Typed, bad, CONTEXT, emit=record.emit, answer=record.answer)

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
    await run_action(Breaks, request, CONTEXT, emit=record.emit, answer=record.answer)

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
    task = asyncio.create_task(run_action(Waits, message(), CONTEXT, emit=record.emit, answer=record.answer))
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
    await run_action(AwaitsACancelledTask, message(), CONTEXT, emit=record.emit, answer=record.answer)

    assert [type(problem) for problem, _ in record.answers] == [InternalError]
