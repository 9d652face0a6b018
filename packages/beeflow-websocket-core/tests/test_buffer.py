"""FrameBuffer keeps asyncio.Queue's semantics for what the dispatcher uses."""

import asyncio

import pytest

from beeflow_websocket.core._buffer import FrameBuffer

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def settle() -> None:
    for _ in range(10):
        await asyncio.sleep(0)


async def test_items_come_out_first_in_first_out() -> None:
    buffer: FrameBuffer[int] = FrameBuffer(3)
    for n in range(3):
        buffer.put_nowait(n)

    assert buffer.full()
    assert [buffer.get_nowait() for _ in range(3)] == [0, 1, 2]
    assert buffer.empty()


async def test_a_full_buffer_refuses_put_nowait_and_an_empty_one_get_nowait() -> None:
    buffer: FrameBuffer[int] = FrameBuffer(1)
    with pytest.raises(asyncio.QueueEmpty):
        buffer.get_nowait()
    buffer.put_nowait(1)
    with pytest.raises(asyncio.QueueFull):
        buffer.put_nowait(2)


async def test_producers_waiting_for_room_go_on_in_turn() -> None:
    buffer: FrameBuffer[str] = FrameBuffer(1)
    buffer.put_nowait("first")
    waiting = [asyncio.create_task(buffer.put(name)) for name in ("second", "third")]
    await settle()
    assert not any(task.done() for task in waiting)

    taken = [buffer.get_nowait()]
    await settle()
    taken.append(buffer.get_nowait())
    await settle()
    taken.append(buffer.get_nowait())
    await asyncio.gather(*waiting)

    assert taken == ["first", "second", "third"]


async def test_a_producer_let_in_then_cancelled_passes_its_turn_on() -> None:
    buffer: FrameBuffer[str] = FrameBuffer(1)
    buffer.put_nowait("first")
    cancelled = asyncio.create_task(buffer.put("cancelled"))
    patient = asyncio.create_task(buffer.put("patient"))
    await settle()

    buffer.get_nowait()  # lets "cancelled" in...
    cancelled.cancel()  # ...which is cancelled before it runs
    await settle()

    assert cancelled.cancelled()
    assert patient.done()
    assert buffer.get_nowait() == "patient"


async def test_a_producer_cancelled_while_waiting_leaves_the_queue_of_waiters() -> None:
    buffer: FrameBuffer[str] = FrameBuffer(1)
    buffer.put_nowait("first")
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(buffer.put("late"), 0.01)

    assert buffer.get_nowait() == "first"
    buffer.put_nowait("next")
    assert buffer.get_nowait() == "next"


async def test_join_waits_until_every_item_is_done() -> None:
    buffer: FrameBuffer[int] = FrameBuffer(4)
    await buffer.join()  # nothing put: returns at once
    buffer.put_nowait(1)
    buffer.put_nowait(2)
    joined = asyncio.create_task(buffer.join())
    buffer.get_nowait()
    buffer.task_done()
    await settle()
    assert not joined.done()

    buffer.get_nowait()
    buffer.task_done()
    await asyncio.wait_for(joined, 1)


async def test_task_done_more_often_than_put_is_an_error() -> None:
    buffer: FrameBuffer[int] = FrameBuffer(1)
    with pytest.raises(ValueError, match="more times"):
        buffer.task_done()
