"""A request sent again after a lost connection, with ``retry_window``: it runs at most once."""

import asyncio
from collections.abc import AsyncIterator
from typing import ClassVar
from uuid import uuid4

import pytest

from beeflow_websocket.core.action_registry import Action, ActionContext
from beeflow_websocket.core.delivery.local import LocalConnections
from beeflow_websocket.core.event_registry import Event
from beeflow_websocket.core.payloads import ActionMessage
from beeflow_websocket.core.problems import WebSocketProblem
from beeflow_websocket.core.retries.ledger import MemoryLedger, Outcome
from beeflow_websocket.core.settings import DispatcherSettings
from beeflow_websocket.core.testing import ActionTestClient

pytestmark = pytest.mark.anyio

RETRIES = DispatcherSettings(retry_window=30)


class Charged(Event, name="retry.charged"):
    pass


class Charge(Action, name="retry.charge"):
    """Counts its runs; waits for ``release`` when asked to."""

    runs: ClassVar[list[str]] = []
    release: ClassVar[asyncio.Event]
    started: ClassVar[asyncio.Event]
    finished: ClassVar[int] = 0

    async def execute(self, message: ActionMessage, context: ActionContext) -> AsyncIterator[Charged]:
        Charge.runs.append(str(message.msg_id))
        Charge.started.set()
        try:
            if message.payload.get("wait"):
                await Charge.release.wait()
            if message.payload.get("fail"):
                raise WebSocketProblem("Card declined.", status=402, code="declined", title="Declined")
            yield Charged(
                recipient="websocket", recipient_id=context.websocket_id, req_id=message.req_id, payload={}
            )
        finally:
            Charge.finished += 1


@pytest.fixture(autouse=True)
def fresh() -> None:
    Charge.runs = []
    Charge.release = asyncio.Event()
    Charge.started = asyncio.Event()
    Charge.finished = 0


@pytest.fixture
def connections() -> LocalConnections:
    """One process's connections, with a ledger of its own (the engine's, as Redis would keep it)."""
    local = LocalConnections()
    local.ledger = MemoryLedger()  # type: ignore[attr-defined]
    return local


async def test_a_completed_request_sent_again_is_not_run_again(connections: LocalConnections) -> None:
    client = ActionTestClient(settings=RETRIES, connections=connections)
    msg_id = uuid4()
    first = await client.outcome(await client.start("retry.charge", msg_id=msg_id))
    again = await client.outcome(await client.start("retry.charge", msg_id=msg_id))

    assert first.complete
    assert again.problem is not None
    assert (again.problem["status"], again.problem["code"]) == (409, "duplicate_request")
    assert again.problem["outcome"] == "completed"
    assert again.problem["final"] is True
    assert Charge.runs == [str(msg_id)]


async def test_a_request_that_ended_with_a_problem_is_reported_failed(connections: LocalConnections) -> None:
    client = ActionTestClient(settings=RETRIES, connections=connections)
    msg_id = uuid4()
    first = await client.outcome(await client.start("retry.charge", {"fail": True}, msg_id=msg_id))
    again = await client.outcome(await client.start("retry.charge", {"fail": True}, msg_id=msg_id))

    assert first.problem is not None
    assert first.problem["code"] == "declined"
    assert again.problem is not None
    assert again.problem["outcome"] == "failed"
    assert len(Charge.runs) == 1


async def test_a_request_running_when_its_connection_went_is_reported_interrupted_on_the_next(
    connections: LocalConnections,
) -> None:
    gone = ActionTestClient(settings=RETRIES, connections=connections, user_id=5)
    msg_id, req_id = uuid4(), uuid4()
    await gone.start("retry.charge", {"wait": True}, msg_id=msg_id, req_id=req_id)
    await Charge.started.wait()
    await gone.close()
    assert Charge.finished == 1  # its finally ran as the connection went

    back = ActionTestClient(settings=RETRIES, connections=connections, user_id=5)
    again = await back.start("retry.charge", {"wait": True}, msg_id=msg_id, req_id=req_id)
    retried = await back.outcome(again)

    assert retried.problem is not None
    assert retried.problem["outcome"] == "interrupted"
    assert retried.problem["req_id"] == str(req_id)
    assert len(Charge.runs) == 1


async def test_a_request_still_running_elsewhere_is_reported_running(connections: LocalConnections) -> None:
    first = ActionTestClient(settings=RETRIES, connections=connections, user_id=5)
    second = ActionTestClient(settings=RETRIES, connections=connections, user_id=5)
    msg_id = uuid4()
    running = await first.start("retry.charge", {"wait": True}, msg_id=msg_id)
    await Charge.started.wait()

    retried = await second.outcome(await second.start("retry.charge", msg_id=msg_id))
    Charge.release.set()

    assert retried.problem is not None
    assert retried.problem["outcome"] == "running"
    assert (await first.outcome(running)).complete
    assert len(Charge.runs) == 1


async def test_a_request_that_waited_for_a_slot_when_its_connection_went_runs_when_sent_again(
    connections: LocalConnections,
) -> None:
    settings = DispatcherSettings(retry_window=30, max_concurrent_actions=1)
    gone = ActionTestClient(settings=settings, connections=connections, user_id=5)
    await gone.start("retry.charge", {"wait": True})
    msg_id = uuid4()
    await gone.start("retry.charge", msg_id=msg_id)  # waits behind the first
    await Charge.started.wait()
    await gone.close()

    back = ActionTestClient(settings=settings, connections=connections, user_id=5)
    retried = await back.outcome(await back.start("retry.charge", msg_id=msg_id))

    assert retried.complete
    assert Charge.runs[1:] == [str(msg_id)]


async def test_a_msg_id_is_remembered_per_user(connections: LocalConnections) -> None:
    msg_id = uuid4()
    for user in (1, 2):
        client = ActionTestClient(settings=RETRIES, connections=connections, user_id=user)
        assert (await client.outcome(await client.start("retry.charge", msg_id=msg_id))).complete

    assert Charge.runs == [str(msg_id)] * 2


@pytest.mark.parametrize(
    ("settings", "version"), [(DispatcherSettings(), 1), (RETRIES, 0)], ids=["no-window", "protocol-0"]
)
async def test_without_a_window_or_in_protocol_0_every_request_runs(
    connections: LocalConnections, settings: DispatcherSettings, version: int
) -> None:
    client = ActionTestClient(settings=settings, connections=connections, protocol_version=version)  # type: ignore[arg-type]
    msg_id = uuid4()
    for _ in range(2):
        await client.send("retry.charge", msg_id=msg_id)

    assert Charge.runs == [str(msg_id)] * 2
    assert "duplicate_request" not in str(client.raw_frames)


async def test_control_requests_are_not_recorded(connections: LocalConnections) -> None:
    client = ActionTestClient(settings=RETRIES, connections=connections)

    assert (await client.ping()).complete
    assert len(connections.ledger) == 0  # type: ignore[attr-defined]


class SlowLedger(MemoryLedger):
    """A ledger whose records take until ``gate`` opens, as a Redis round trip takes its time."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()

    async def begin(self, owner: str, msg_id: str, window: float) -> Outcome | None:
        await self.gate.wait()
        return await super().begin(owner, msg_id, window)


async def test_a_request_cancelled_while_it_was_being_recorded_never_runs() -> None:
    connections = LocalConnections()
    ledger = connections.ledger = SlowLedger()  # type: ignore[attr-defined]
    client = ActionTestClient(settings=RETRIES, connections=connections)
    msg_id = uuid4()
    req_id = await client.start("retry.charge", msg_id=msg_id)

    cancel = await client.cancel(req_id)
    outcome = await client.outcome(req_id)
    ledger.gate.set()
    await client.settle()
    again = await client.outcome(await client.start("retry.charge", msg_id=msg_id))

    assert cancel.complete
    assert outcome.problem is not None
    assert outcome.problem["code"] == "request_cancelled"
    assert Charge.runs == []
    assert again.problem is not None
    assert again.problem["outcome"] == "failed"
