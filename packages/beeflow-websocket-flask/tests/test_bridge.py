"""The sync-to-async bridge (beeflow_websocket.flask._bridge)."""

import asyncio
import threading

import pytest

from beeflow_websocket.flask._bridge import EventLoopThread


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
