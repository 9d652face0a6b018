"""The measurements made against a running server: throughput, latency, idle memory and fan-out.

Load that could saturate the harness runs in separate processes; the server's CPU time and memory
come from /proc, so the load generator's own cost is never counted against a contender.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from queue import Empty
from typing import Any

from websockets.exceptions import ConnectionClosed, InvalidHandshake

from clients import WIRES, Wire
from loadgen import load
from servers import RunningServer, ServerFailed

LOAD_PROCESSES = 2


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def _client_process(
    wire: str, url: str, connections: int, start_at: float, stop_at: float
) -> tuple[int, float]:
    return asyncio.run(load(wire, url, connections, start_at, stop_at))


def load_pool() -> ProcessPoolExecutor:
    """The load processes, started once for the whole run and warmed, so that no round pays for imports."""
    pool = ProcessPoolExecutor(LOAD_PROCESSES, mp_context=multiprocessing.get_context("spawn"))
    for started in [pool.submit(time.sleep, 0.5) for _ in range(LOAD_PROCESSES)]:
        started.result()
    return pool


async def throughput(
    server: RunningServer, pool: ProcessPoolExecutor, connections: int, seconds: float
) -> dict[str, float]:
    """``connections`` connections, each sending a request and waiting for its answer, for ``seconds``.

    The load runs in ``LOAD_PROCESSES`` processes so that the generator is not what limits a fast
    server; its CPU share (of all cores) is reported. The processes connect first, then all start
    at the same moment, when the server's CPU time starts counting.
    """
    start_at = time.time() + 0.5
    stop_at = start_at + seconds
    loop = asyncio.get_running_loop()
    wire, url, share = server.contender.wire, server.url(), connections // LOAD_PROCESSES
    futures = [
        loop.run_in_executor(pool, _client_process, wire, url, share, start_at, stop_at)
        for _ in range(LOAD_PROCESSES)
    ]
    await asyncio.sleep(max(0.0, start_at - time.time()))
    cpu_before = server.cpu_seconds()
    results = await asyncio.gather(*futures)
    server_cpu = server.cpu_seconds() - cpu_before
    count = sum(result[0] for result in results)
    client_cpu = sum(result[1] for result in results)
    return {
        "messages_per_second": count / seconds,
        "server_cpu_us_per_message": server_cpu / count * 1e6,
        "client_cpu_share": client_cpu / seconds / (os.cpu_count() or 1),
    }


async def latency(server: RunningServer, requests: int) -> dict[str, float]:
    """One connection, sequential round trips."""
    wire = WIRES[server.contender.wire]()
    samples = []
    ws = await wire.open(server.url())
    try:
        for _ in range(requests):
            started = time.perf_counter()
            await wire.round_trip(ws)
            samples.append((time.perf_counter() - started) * 1e6)
    finally:
        await ws.close()
    return {"p50_us": statistics.median(samples), "p99_us": percentile(samples, 0.99)}


async def ready(server: RunningServer, timeout: float = 60.0) -> None:
    """Wait until the server answers a round trip: listening is not enough (gunicorn's master listens
    before its worker has imported the app)."""
    wire = WIRES[server.contender.wire]()
    deadline = time.monotonic() + timeout
    while True:
        if server.process.poll() is not None:
            raise ServerFailed(f"exited with {server.process.returncode}: {server.tail()}")
        try:
            ws = await asyncio.wait_for(wire.open(server.url()), 5)
            try:
                await ws.send(wire.request())
                await asyncio.wait_for(wire.answer(ws), 5)
            finally:
                await ws.close()
            return
        except (OSError, TimeoutError, ConnectionClosed, InvalidHandshake) as error:
            if time.monotonic() > deadline:
                raise ServerFailed(
                    f"no answer within {timeout:.0f} s ({error!r}): {server.tail()}"
                ) from error
            await asyncio.sleep(0.2)


async def _open_many(wire: Wire, url: str, count: int, *, join: bool) -> list[Any]:
    """``count`` connections, each past one full round trip (and a join, for fan-out), 50 at a time."""
    gate = asyncio.Semaphore(50)

    async def one() -> Any:
        async with gate:
            ws = await wire.open(url)
            await ws.send(wire.request("bench.join") if join else wire.request())
            await wire.answer(ws)
            return ws

    return list(await asyncio.gather(*(one() for _ in range(count))))


async def idle_memory(server: RunningServer, connections: int, settle: float) -> dict[str, float]:
    """Server RSS per idle connection: each opened, authenticated, answered once, then left alone."""
    await asyncio.sleep(settle)
    before = server.rss_bytes()
    sockets = await _open_many(WIRES[server.contender.wire](), server.url(), connections, join=False)
    await asyncio.sleep(settle)
    after = server.rss_bytes()
    await asyncio.gather(*(ws.close() for ws in sockets))
    return {"rss_before_mib": before / 2**20, "rss_per_connection_kib": (after - before) / connections / 1024}


def _fanout_members(url: str, members: int, repeats: int, ready: Any, results: Any) -> None:
    """One load process's share of a group: every member waits for each broadcast; report the last arrival."""

    async def run() -> None:
        wire = WIRES["beeflow"]()
        sockets = await _open_many(wire, url, members, join=True)
        ready.put(len(sockets))
        for _ in range(repeats):
            arrivals = await asyncio.gather(*(_arrival(ws) for ws in sockets))
            results.put(max(arrivals))
        await asyncio.gather(*(ws.close() for ws in sockets))

    asyncio.run(run())


async def _arrival(ws: Any) -> float:
    await ws.recv()
    return time.time()


async def _take(queue: Any, workers: list[Any], timeout: float) -> Any:
    """The next item a load process reports; fails fast when one of them has died."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return queue.get_nowait()
        except Empty:
            if any(worker.exitcode not in (None, 0) for worker in workers):
                raise RuntimeError("a fan-out load process failed; see its traceback above") from None
            if time.monotonic() > deadline:
                raise TimeoutError(f"no report from the fan-out load within {timeout:.0f} s") from None
            await asyncio.sleep(0.002)


async def fanout(server: RunningServer, members: int, repeats: int) -> dict[str, float]:
    """One request broadcast to a group of ``members`` connections: time until the last one has it.

    Members live in ``LOAD_PROCESSES`` processes and join the group with a ``bench.join`` request
    each; the sender is one more connection, of the harness, and not a member.
    """
    path = server.contender.fanout
    assert path is not None
    context = multiprocessing.get_context("spawn")
    ready, results = context.Queue(), context.Queue()
    share = members // LOAD_PROCESSES
    workers = [
        context.Process(target=_fanout_members, args=(server.url(path), share, repeats, ready, results))
        for _ in range(LOAD_PROCESSES)
    ]
    for worker in workers:
        worker.start()
    for _ in workers:
        await _take(ready, workers, 120)
    wire = WIRES["beeflow"]()
    sender = await wire.open(server.url(path))
    samples = []
    try:
        for _ in range(repeats):
            await asyncio.sleep(0.3)
            started = time.time()
            await sender.send(wire.request("bench.broadcast", {"text": "x" * 64}))
            last = [await _take(results, workers, 60) for _ in workers]
            samples.append((max(last) - started) * 1e3)
    finally:
        await sender.close()
        for worker in workers:
            worker.join(timeout=30)
    return {
        "p50_ms": statistics.median(samples),
        "p99_ms": percentile(samples, 0.99),
        "members": share * len(workers),
    }
