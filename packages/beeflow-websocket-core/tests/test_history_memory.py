"""One process's stream histories, in its memory (history.memory)."""

import pytest
from clock import Clock, patch_clock

from beeflow_websocket.core.history import memory
from beeflow_websocket.core.history.memory import MemoryHistory
from beeflow_websocket.core.history.positions import META_TTL, HistoryPolicy
from beeflow_websocket.core.transport import OutboundEvent

pytestmark = pytest.mark.anyio

EVENT = OutboundEvent(None, '{"event":"n","recipient":"group","recipient_id":"room","payload":{}}')


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return patch_clock(monkeypatch, memory)


async def test_events_older_than_the_ttl_are_no_longer_replayed(clock: Clock) -> None:
    history = MemoryHistory(HistoryPolicy(size=10, ttl=60))
    first = history.keep("room", EVENT)
    assert first.position is not None
    clock.now += 61
    history.keep("room", EVENT)

    assert (await history.read("room", first.position.epoch, 0)).reason == "expired"
    assert [event.position for event in (await history.read("room", first.position.epoch, 1)).events] == [
        (first.position.stream, first.position.epoch, 2)
    ]


async def test_a_stream_silent_for_the_meta_lifetime_starts_a_new_epoch_and_is_forgotten(
    clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(memory, "_SWEEP_EVERY", 2)
    history = MemoryHistory(HistoryPolicy(size=10, ttl=60))
    old = history.keep("room", EVENT).position
    clock.now += 120  # the events expired, the epoch and top did not: nothing missed resumes
    assert old is not None
    assert (await history.read("room", old.epoch, 1)).reason is None
    clock.now += META_TTL
    renewed = history.keep("room", EVENT).position  # the second append sweeps "room" first
    history.keep("other", EVENT)
    clock.now += META_TTL + 1
    history.keep("other", EVENT)
    history.keep("other", EVENT)  # the fourth sweeps again: "room" has gone silent

    assert renewed is not None
    assert (renewed.offset, renewed.epoch != old.epoch) == (1, True)
    assert len(history) == 1
