from typing import Any

import pytest

from beeflow_websocket.client._requests import Pending, RequestTable
from beeflow_websocket.client.errors import ConnectionLost, ProblemError, QueueFull
from beeflow_websocket.client.events import EventTypes

pytestmark = pytest.mark.anyio

READ = EventTypes()


def envelope(req_id: str) -> dict[str, Any]:
    return {"msg_id": "m", "req_id": req_id, "action": "a", "payload": {}}


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

    assert table.waiting() == [first]
    assert table.waiting() == []
    first.sent = True
    table.lose(ConnectionLost("gone"))
    with pytest.raises(ConnectionLost):
        await first.next()
