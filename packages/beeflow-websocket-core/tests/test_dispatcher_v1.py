"""Protocol v1 through the dispatcher: one terminal frame per request, cancel, ping, time limits."""

import asyncio
import time
from collections.abc import AsyncIterator
from typing import ClassVar
from uuid import UUID, uuid4

import pytest

from beeflow_websocket.core.action_registry import Action, ActionContext
from beeflow_websocket.core.event_registry import Event
from beeflow_websocket.core.payloads import ActionMessage
from beeflow_websocket.core.problems import WebSocketProblem
from beeflow_websocket.core.settings import DispatcherSettings
from beeflow_websocket.core.testing import ActionTestClient, Frame

pytestmark = pytest.mark.anyio


class Tick(Event, name="v1.tick"):
    pass


def tick(context: ActionContext, message: ActionMessage, n: int, recipient: str = "websocket") -> Tick:
    recipient_id = {"websocket": context.websocket_id, "user": str(context.user_id)}.get(recipient, recipient)
    return Tick(recipient=recipient, recipient_id=recipient_id, req_id=message.req_id, payload={"n": n})


class Burst(Action, name="v1.burst"):
    """Yields three events without waiting in between."""

    async def execute(self, message: ActionMessage, context: ActionContext) -> AsyncIterator[Tick]:
        for n in range(3):
            yield tick(context, message, n)


class Stream(Action, name="v1.stream"):
    """Yields 50 events 5 ms apart; notes when its ``finally`` ran."""

    finished: ClassVar[list[float]] = []

    async def execute(self, message: ActionMessage, context: ActionContext) -> AsyncIterator[Tick]:
        try:
            for n in range(50):
                yield tick(context, message, n)
                await asyncio.sleep(0.005)
        finally:
            Stream.finished.append(time.perf_counter())


class Fails(Action, name="v1.fails"):
    async def execute(self, message: ActionMessage, context: ActionContext) -> AsyncIterator[Tick]:
        yield tick(context, message, 0)
        await asyncio.sleep(0)
        raise WebSocketProblem("No seats left.", status=409, code="sold_out", title="Sold out")


class Sleeps(Action, name="v1.sleeps", timeout=0.05):
    async def execute(self, message: ActionMessage, context: ActionContext) -> AsyncIterator[Tick]:
        yield tick(context, message, 0)
        await asyncio.sleep(60)
        yield tick(context, message, 1)


class ToMyUser(Action, name="v1.to-my-user"):
    """Yields to its user's group, which the asking connection is in, then ends."""

    async def execute(self, message: ActionMessage, context: ActionContext) -> AsyncIterator[Tick]:
        for n in range(3):
            yield tick(context, message, n, recipient="user")


def of(client: ActionTestClient, req_id: UUID) -> list[Frame]:
    return [frame for frame in client.frames if frame.get("req_id") == str(req_id)]


async def received(client: ActionTestClient, req_id: UUID, count: int) -> None:
    """Wait until ``count`` frames of request ``req_id`` have been received (at most 2 s)."""
    for _ in range(2000):
        if len(of(client, req_id)) >= count:
            return
        await asyncio.sleep(0.001)
    raise AssertionError(f"fewer than {count} frames of the request arrived")


def assert_one_terminal_frame_last(frames: list[Frame]) -> None:
    assert [frame["final"] for frame in frames] == [False] * (len(frames) - 1) + [True]


async def test_a_one_event_answer_stays_one_frame_and_it_is_final() -> None:
    outcome = await ActionTestClient().call("health")

    assert len(outcome.frames) == 1
    assert outcome.terminal["event"] == "health"
    assert outcome.terminal["final"] is True
    assert outcome.complete


async def test_events_yielded_without_waiting_end_with_the_last_one_marked_final() -> None:
    outcome = await ActionTestClient().call("v1.burst")

    assert [frame["payload"] for frame in outcome.frames] == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert_one_terminal_frame_last(list(outcome.frames))


async def test_a_stream_that_ends_after_its_last_event_was_written_ends_with_beeflow_complete() -> None:
    outcome = await ActionTestClient().call("v1.stream")

    assert len(outcome.events) == 50
    assert outcome.terminal["event"] == "beeflow.complete"
    assert outcome.terminal["payload"] == {"events": 50}
    assert_one_terminal_frame_last(list(outcome.frames))
    assert [frame["seq"] for frame in outcome.frames] == list(range(1, 52))


async def test_a_problem_after_events_is_the_terminal_frame() -> None:
    outcome = await ActionTestClient().call("v1.fails")

    assert [frame.get("event", frame.get("code")) for frame in outcome.frames] == ["v1.tick", "sold_out"]
    assert outcome.problem is not None
    assert outcome.problem["status"] == 409
    assert_one_terminal_frame_last(list(outcome.frames))


@pytest.mark.parametrize(
    ("action", "payload", "code"),
    [("nope", {}, "unknown_websocket_action"), ("beeflow.cancel", {"req_id": 7}, "invalid_action_payload")],
)
async def test_a_refused_request_ends_with_its_problem_marked_final(
    action: str, payload: dict[str, int], code: str
) -> None:
    outcome = await ActionTestClient().call(action, payload)

    assert [frame["code"] for frame in outcome.frames] == [code]
    assert outcome.terminal["final"] is True


async def test_a_frame_with_no_readable_req_id_is_answered_without_final() -> None:
    client = ActionTestClient()
    await client.send_frame("not json")

    [problem] = client.frames
    assert problem["code"] == "invalid_websocket_message"
    assert "final" not in problem
    assert "req_id" not in problem


async def test_cancel_stops_a_stream_at_once_and_nothing_of_it_follows_the_terminal_frame() -> None:
    client = ActionTestClient()
    Stream.finished.clear()
    req_id = await client.start("v1.stream")
    await received(client, req_id, 5)

    cancel = await client.cancel(req_id)
    outcome = await client.outcome(req_id)
    await asyncio.sleep(0.05)  # any event of it still on its way would arrive now

    assert cancel.complete
    assert cancel.terminal["payload"] == {"events": 0}
    assert outcome.problem is not None
    assert outcome.problem["code"] == "request_cancelled"
    assert outcome.problem["status"] == 499
    assert len(Stream.finished) == 1
    frames = of(client, req_id)
    assert frames[-1] == outcome.terminal
    assert_one_terminal_frame_last(frames)
    assert len(outcome.events) < 50


async def test_cancelling_a_request_that_is_not_running_is_answered_404() -> None:
    client = ActionTestClient()
    finished = await client.call("health")

    for target in (finished.req_id, uuid4()):
        outcome = await client.cancel(target)
        assert outcome.problem is not None
        assert (outcome.problem["status"], outcome.problem["code"]) == (404, "unknown_request")
        assert outcome.problem["final"] is True


async def test_a_request_cancelled_while_it_waits_for_a_slot_never_runs() -> None:
    client = ActionTestClient(settings=DispatcherSettings(max_concurrent_actions=1))
    Stream.finished.clear()
    running = await client.start("v1.stream")
    waiting = await client.start("v1.burst")

    await client.cancel(waiting)
    outcome = await client.outcome(waiting)
    assert outcome.problem is not None
    assert outcome.problem["code"] == "request_cancelled"
    assert outcome.events == []

    await client.cancel(running)
    await client.outcome(running)
    await client.settle()
    assert of(client, waiting) == list(outcome.frames)


async def test_ping_is_answered_at_once_even_while_a_request_holds_the_only_slot() -> None:
    client = ActionTestClient(settings=DispatcherSettings(max_concurrent_actions=1))
    running = await client.start("v1.stream")

    pong = await client.ping()

    assert pong.complete
    assert pong.terminal["event"] == "beeflow.complete"
    assert not client._ended[str(running)].done()  # the stream still runs
    await client.cancel(running)


async def test_an_action_past_its_time_limit_ends_504_after_the_events_it_sent() -> None:
    outcome = await ActionTestClient().call("v1.sleeps")

    assert [frame.get("event", frame.get("code")) for frame in outcome.frames] == [
        "v1.tick",
        "action_timeout",
    ]
    assert outcome.problem is not None
    assert outcome.problem["status"] == 504


async def test_the_settings_time_limit_applies_to_actions_without_their_own() -> None:
    client = ActionTestClient(settings=DispatcherSettings(action_timeout=0.05))
    outcome = await client.call("v1.stream")

    assert outcome.problem is not None
    assert outcome.problem["code"] == "action_timeout"


async def test_a_request_s_events_to_its_user_reach_the_asker_before_its_end_and_others_without_final() -> (
    None
):
    asker = ActionTestClient(user_id=7)
    other_tab = ActionTestClient(user_id=7, connections=asker.connections)
    await other_tab.open()

    outcome = await asker.call("v1.to-my-user")
    await other_tab.settle()

    assert [frame["payload"] for frame in outcome.events] == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert_one_terminal_frame_last(list(outcome.frames))
    assert [frame["payload"] for frame in other_tab.frames] == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert all("final" not in frame for frame in other_tab.frames)


async def test_a_0_3_0_client_sees_no_final_and_no_completion() -> None:
    client = ActionTestClient(protocol_version=0)
    await client.send("v1.stream")
    await client.send("beeflow.ping")

    assert all("final" not in frame for frame in client.frames)
    assert [frame.get("event") for frame in client.frames[:50]] == ["v1.tick"] * 50
    assert client.frames[50]["code"] == "unknown_websocket_action"
    assert len(client.frames) == 51
