from typing import Any

import pytest

from beeflow_websocket.client._requests import Pending, RequestTable
from beeflow_websocket.client.errors import ClientClosed, ConnectionLost, ProblemError, QueueFull
from beeflow_websocket.client.events import EventTypes

pytestmark = pytest.mark.anyio

READ = EventTypes()


def envelope(req_id: str) -> dict[str, Any]:
    return {"msg_id": "m", "req_id": req_id, "action": "a", "payload": {}}


def made(table: RequestTable, req_id: str, *, online: bool = True, retry: bool = False) -> Pending:
    """A request registered in ``table``; made online, it counts as sent."""
    pending = Pending(envelope(req_id), retry=retry)
    table.add(pending, online=online)
    pending.sent = online
    return pending


def lines(table: RequestTable) -> list[str]:
    """Take every waiting request, in the order they would be sent."""
    taken = []
    while (pending := table.next_waiting()) is not None:
        taken.append(pending.req_id)
    return taken


def event(req_id: str | None, name: str = "e", final: bool | None = False, **payload: Any) -> dict[str, Any]:
    frame: dict[str, Any] = {"req_id": req_id, "seq": 1, "event": name, "payload": payload}
    if final is not None:
        frame["final"] = final
    return frame


def problem(req_id: str, final: bool) -> dict[str, Any]:
    return {"req_id": req_id, "seq": 1, "type": "about:blank", "title": "T", "status": 499,
            "code": "request_cancelled", "detail": "d", "final": final}  # fmt: skip


def take(table: RequestTable, frame: dict[str, Any]) -> bool:
    return table.take(frame, READ.read(frame) if "event" in frame else None)


async def drain(pending: Pending) -> list[Any]:
    found = []
    while (item := await pending.next()) is not None:
        found.append(item.payload)
    return found


async def test_a_request_ends_with_its_final_event_and_a_completion_adds_nothing() -> None:
    table = RequestTable(queue_limit=10)
    one, two = Pending(envelope("one")), Pending(envelope("two"))
    table.add(one, online=True)
    table.add(two, online=True)

    assert take(table, event("one", n=1))
    assert take(table, event("one", final=True, n=2))
    assert take(table, event("two", n=1))
    assert take(table, event("two", name="beeflow.complete", final=True, events=1))

    assert await drain(one) == [{"n": 1}, {"n": 2}]
    assert await drain(two) == [{"n": 1}]
    assert (one.done, two.done) == (True, True)


async def test_a_final_problem_fails_the_request_and_a_passing_one_is_not_its_to_take() -> None:
    table = RequestTable(queue_limit=10)
    pending = Pending(envelope("r"))
    table.add(pending, online=True)

    assert not take(table, problem("r", final=False))
    assert take(table, problem("r", final=True))

    with pytest.raises(ProblemError) as ended:
        await pending.next()
    assert (ended.value.code, ended.value.status, ended.value.req_id) == ("request_cancelled", 499, "r")


def test_frames_without_final_are_not_a_requests_and_an_abandoned_requests_are_dropped() -> None:
    table = RequestTable(queue_limit=10)
    pending = Pending(envelope("r"))
    table.add(pending, online=True)
    table.forget(pending)

    assert not take(table, event("r", final=None))  # a push or someone else's request: a listener's
    assert take(table, event("r", final=True))  # its caller left: dropped
    assert take(table, event("never-made", final=True))


async def test_offline_requests_wait_in_a_bounded_queue_and_survive_a_loss() -> None:
    table = RequestTable(queue_limit=2)
    first, second = Pending(envelope("1")), Pending(envelope("2"))
    table.add(first, online=False)
    table.add(second, online=False)

    with pytest.raises(QueueFull):
        table.add(Pending(envelope("3")), online=False)
    table.forget(second)
    table.lose(ConnectionLost("gone"))

    assert table.next_waiting() is first
    assert table.next_waiting() is None
    first.sent = True
    table.lose(ConnectionLost("gone"))
    with pytest.raises(ConnectionLost):
        await first.next()


async def test_retried_requests_wait_to_be_sent_again_first_in_the_order_made_beside_the_queue() -> None:
    table = RequestTable(queue_limit=1)
    first, plain, second = made(table, "1", retry=True), made(table, "2"), made(table, "3", retry=True)
    assert take(table, event("1", n=1))

    table.lose(ConnectionLost("gone"))
    made(table, "offline", online=False)  # two wait to be sent again: the one place is still free

    with pytest.raises(ConnectionLost):
        await plain.next()
    with pytest.raises(QueueFull):
        made(table, "one too many", online=False)
    assert (first.sent, second.sent) == (False, False)
    assert table.next_waiting() is first
    first.sent = True  # sent again; the connection goes before the second is
    table.lose(ConnectionLost("gone again"))
    assert lines(table) == ["1", "3", "offline"]  # the order they were made, whatever was lost when
    assert take(table, event("1", final=True, n=2))
    assert await drain(first) == [{"n": 1}, {"n": 2}]  # both attempts' events


async def test_a_retried_request_fails_when_no_connection_follows_or_the_client_closes() -> None:
    table = RequestTable(queue_limit=10)
    kicked, waiting = made(table, "kicked", retry=True), made(table, "waiting", retry=True)
    waiting.sent = False  # lost with an earlier connection: it waits to be sent again

    table.lose(ConnectionLost("kicked"), for_good=True)
    table.close(ClientClosed("closed"))

    with pytest.raises(ConnectionLost):
        await kicked.next()
    with pytest.raises(ClientClosed):
        await waiting.next()
    assert table.next_waiting() is None


def test_a_request_given_up_while_it_waits_to_be_sent_again_leaves_the_line() -> None:
    table = RequestTable(queue_limit=10)
    first = made(table, "1", retry=True)
    made(table, "2", retry=True)
    table.lose(ConnectionLost("gone"))

    table.forget(first)

    assert lines(table) == ["2"]
    assert take(table, event("1", final=True))  # its late frames are dropped


def test_a_problem_names_the_outcome_of_a_duplicate_request_only() -> None:
    duplicate = {**problem("r", final=True), "code": "duplicate_request", "outcome": "completed"}
    other = {**problem("r", final=True), "outcome": "completed"}

    assert ProblemError(duplicate).outcome == "completed"
    assert ProblemError(duplicate).problem["outcome"] == "completed"
    assert ProblemError(other).outcome is None
    assert ProblemError({**duplicate, "outcome": 1}).outcome is None
