"""The ledger of started requests in one process's memory: one run per msg_id within the window."""

import pytest
from clock import Clock, patch_clock

from beeflow_websocket.core.delivery.local import LocalConnections
from beeflow_websocket.core.retries import ledger as ledger_module
from beeflow_websocket.core.retries.ledger import MemoryLedger, ledger_of

pytestmark = pytest.mark.anyio


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return patch_clock(monkeypatch, ledger_module)


async def test_the_first_begin_of_a_msg_id_records_it_running_and_a_second_hears_so(clock: Clock) -> None:
    ledger = MemoryLedger()

    assert await ledger.begin("7", "m1", 30) is None
    assert await ledger.begin("7", "m1", 30) == "running"
    assert await ledger.begin("8", "m1", 30) is None  # another user's msg_id is another request


async def test_settling_records_the_outcome_and_restarts_the_window(clock: Clock) -> None:
    ledger = MemoryLedger()
    await ledger.begin("7", "m1", 30)
    clock.now += 20
    await ledger.settle("7", ["m1"], "completed", 30)

    clock.now += 25  # 45 s after it began, 25 s after it ended
    assert await ledger.begin("7", "m1", 30) == "completed"


async def test_an_entry_expires_a_window_after_its_last_change(clock: Clock) -> None:
    ledger = MemoryLedger()
    await ledger.begin("7", "m1", 30)
    await ledger.begin("7", "m2", 30)
    await ledger.settle("7", ["m2"], "interrupted", 30)
    clock.now += 30

    assert await ledger.begin("7", "m1", 30) is None
    assert await ledger.begin("7", "m2", 30) is None
    assert len(ledger) == 2  # the two new entries: the expired ones were dropped


async def test_a_settle_after_the_entry_expired_does_not_bring_it_back(clock: Clock) -> None:
    ledger = MemoryLedger()
    await ledger.begin("7", "m1", 1)
    clock.now += 2
    await ledger.begin("7", "other", 1)  # expires m1

    await ledger.settle("7", ["m1", "never-begun"], "failed", 30)

    assert len(ledger) == 1
    assert await ledger.begin("7", "m1", 30) is None


async def test_an_engine_without_a_ledger_of_its_own_shares_the_process_ledger() -> None:
    assert ledger_of(LocalConnections()) is ledger_of(object())
    assert isinstance(ledger_of(object()), MemoryLedger)
