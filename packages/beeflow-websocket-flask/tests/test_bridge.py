"""The sync-to-async bridge (beeflow_websocket.flask._bridge)."""

import asyncio
import threading
import time

import pytest

from beeflow_websocket.flask._bridge import EventLoopThread, Feed


async def where() -> tuple[asyncio.AbstractEventLoop, str]:
    return asyncio.get_running_loop(), threading.current_thread().name


def test_every_call_runs_on_one_long_lived_loop_in_its_own_thread() -> None:
    bridge = EventLoopThread(name="bridge-test")
    try:
        first_loop, first_thread = bridge.run(where())
        second_loop, second_thread = bridge.run(where())
    finally:
        bridge.stop()

    assert first_loop is second_loop
    assert first_thread == second_thread == "bridge-test"
    assert first_thread != threading.current_thread().name


def test_calls_from_many_threads_share_the_loop() -> None:
    bridge = EventLoopThread()
    loops: list[asyncio.AbstractEventLoop] = []

    def call() -> None:
        loops.append(bridge.run(where())[0])

    threads = [threading.Thread(target=call) for _ in range(8)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        bridge.stop()

    assert len(loops) == 8
    assert len(set(map(id, loops))) == 1


def test_exceptions_reach_the_calling_thread() -> None:
    async def fail() -> None:
        raise LookupError("from the loop")

    bridge = EventLoopThread()
    try:
        with pytest.raises(LookupError, match="from the loop"):
            bridge.run(fail())
    finally:
        bridge.stop()


def test_a_stopped_bridge_starts_a_new_loop_when_used_again() -> None:
    bridge = EventLoopThread()
    first = bridge.run(where())[0]
    bridge.stop()
    second = bridge.run(where())[0]
    bridge.stop()
    bridge.stop()

    assert first is not second


def test_a_feed_keeps_order_and_holds_the_thread_while_its_consumer_is_held_up() -> None:
    bridge = EventLoopThread()
    taken: list[str] = []
    put: list[str] = []

    async def make_gate() -> asyncio.Event:
        return asyncio.Event()

    gate = bridge.run(make_gate())

    async def consume(item: str) -> None:
        if item == "block":
            await gate.wait()  # a dispatcher whose queue is full
        taken.append(item)

    feed = Feed(bridge.loop, consume)

    def produce() -> None:
        for item in ("a", "block"):
            feed.put(item)
            put.append(item)
        time.sleep(0.2)
        for item in ("b", "c", "d"):
            feed.put(item)
            put.append(item)

    producer = threading.Thread(target=produce)
    try:
        producer.start()
        time.sleep(0.5)
        held = (list(taken), list(put))
        bridge.loop.call_soon_threadsafe(gate.set)
        producer.join(5)
        for _ in range(100):
            if len(taken) == 5:
                break
            time.sleep(0.01)
    finally:
        bridge.stop()

    assert held == (["a"], ["a", "block"])  # the thread waits at "b", holding nothing more
    assert taken == ["a", "block", "b", "c", "d"]
