"""A v1 connection's streams on a live connection: gaps filled from the history, or a 4410 (_streams)."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from beeflow_websocket.core._streams import GAP_WAIT, RESYNC_CLOSE_CODE
from beeflow_websocket.core.delivery.local import LocalConnections
from beeflow_websocket.core.history.memory import MemoryHistory
from beeflow_websocket.core.history.positions import HistoryPolicy, StreamPosition
from beeflow_websocket.core.history.replay import Replay
from beeflow_websocket.core.problems import DeliveryUnavailable
from beeflow_websocket.core.testing import ActionTestClient
from beeflow_websocket.core.transport import OutboundEvent

pytestmark = pytest.mark.anyio

STREAM = "~user:7"


def note(number: int) -> OutboundEvent:
    body = f'{{"event":"n","recipient":"user","recipient_id":"7","payload":{{"n":{number}}}}}'
    return OutboundEvent(None, body)


@pytest.fixture
async def kept() -> AsyncIterator[tuple[MemoryHistory, ActionTestClient]]:
    history = MemoryHistory(HistoryPolicy(size=3, ttl=60))
    client = ActionTestClient(user_id=7, connections=LocalConnections(history))
    await client.open()
    yield history, client
    await client.close()


def offsets(client: ActionTestClient) -> list[int]:
    frames: list[dict[str, Any]] = client.frames
    return [frame["stream"]["offset"] for frame in frames if "stream" in frame]


async def settled(client: ActionTestClient) -> None:
    await asyncio.sleep(GAP_WAIT * 2)
    await client.dispatcher.wait_idle()


async def test_a_gap_that_does_not_close_by_itself_is_filled_from_the_history(
    kept: tuple[MemoryHistory, ActionTestClient],
) -> None:
    history, client = kept
    first, second, third = (history.keep(STREAM, note(n)) for n in (1, 2, 3))
    await client.dispatcher.deliver(first)
    await client.dispatcher.deliver(third)
    await settled(client)
    await client.dispatcher.deliver(second)  # late: written already, from the history
    await client.dispatcher.wait_idle()

    assert offsets(client) == [1, 2, 3]
    assert [frame["seq"] for frame in client.frames] == [1, 2, 3]
    assert client.closed_with is None


async def test_a_gap_that_closes_by_itself_is_not_read_from_the_history(
    kept: tuple[MemoryHistory, ActionTestClient],
) -> None:
    history, client = kept
    first, second, third = (history.keep(STREAM, note(n)) for n in (1, 2, 3))
    client.dispatcher.post(first)
    client.dispatcher.post(third)
    client.dispatcher.post(second)
    await settled(client)

    assert offsets(client) == [1, 2, 3]


async def test_a_gap_whose_events_are_gone_closes_the_connection_with_4410(
    kept: tuple[MemoryHistory, ActionTestClient],
) -> None:
    history, client = kept
    events = [history.keep(STREAM, note(n)) for n in range(1, 7)]  # three kept: 4, 5, 6
    await client.dispatcher.deliver(events[0])
    await client.dispatcher.deliver(events[5])
    assert await client.closed_by_server() == (RESYNC_CLOSE_CODE, "missed stream events: resume")
    assert offsets(client) == [1]


async def test_an_event_of_another_epoch_closes_the_connection_with_4410(
    kept: tuple[MemoryHistory, ActionTestClient],
) -> None:
    history, client = kept
    await client.dispatcher.deliver(history.keep(STREAM, note(1)))
    await client.dispatcher.deliver(
        OutboundEvent(None, note(2).body, None, StreamPosition(STREAM, "other", 2))
    )

    assert await client.closed_by_server() == (RESYNC_CLOSE_CODE, "missed stream events: resume")


async def test_an_event_that_skips_the_connection_counts_without_being_written(
    kept: tuple[MemoryHistory, ActionTestClient],
) -> None:
    history, client = kept
    await client.dispatcher.deliver(history.keep(STREAM, note(1)))
    skipping = history.keep(STREAM, OutboundEvent(None, note(2).body, client.websocket_id))
    await client.dispatcher.deliver(skipping)
    await client.dispatcher.deliver(history.keep(STREAM, note(3)))
    await settled(client)

    assert offsets(client) == [1, 3]
    assert client.closed_with is None


async def test_a_gap_fill_skips_what_skips_the_connection(
    kept: tuple[MemoryHistory, ActionTestClient],
) -> None:
    history, client = kept
    first = history.keep(STREAM, note(1))
    history.keep(STREAM, OutboundEvent(None, note(2).body, client.websocket_id))
    third = history.keep(STREAM, note(3))
    await client.dispatcher.deliver(first)
    await client.dispatcher.deliver(third)
    await settled(client)

    assert offsets(client) == [1, 3]
    assert client.closed_with is None


class Unreadable(MemoryHistory):
    async def read(self, stream: str, epoch: str, after: int) -> Replay:
        raise DeliveryUnavailable()


async def test_a_history_that_cannot_be_read_answers_a_resume_503_and_a_gap_with_4410() -> None:
    history = Unreadable(HistoryPolicy(size=3, ttl=60))
    client = ActionTestClient(user_id=7, connections=LocalConnections(history))
    await client.open()
    try:
        outcome = await client.call(
            "beeflow.resume", {"streams": [{"name": STREAM, "epoch": "e", "offset": 0}]}
        )
        first, _, third = (history.keep(STREAM, note(n)) for n in (1, 2, 3))
        await client.dispatcher.deliver(first)
        await client.dispatcher.deliver(third)
        closed = await client.closed_by_server()
    finally:
        await client.close()

    assert (outcome.terminal["status"], outcome.terminal["code"]) == (503, "delivery_unavailable")
    assert closed[0] == RESYNC_CLOSE_CODE


async def test_a_group_left_is_no_longer_followed(kept: tuple[MemoryHistory, ActionTestClient]) -> None:
    history, client = kept
    await client.dispatcher.join("room")
    await client.dispatcher.deliver(history.keep("room", note(1)))
    await client.dispatcher.leave("room")
    await client.dispatcher.join("room")
    await client.dispatcher.deliver(history.keep("room", note(2)))
    history.keep("room", note(3))
    await client.dispatcher.deliver(history.keep("room", note(4)))  # a gap: it follows anew from 2
    await settled(client)

    assert offsets(client) == [1, 2, 3, 4]
