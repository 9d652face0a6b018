"""Benchmarks: the core in process, and each adapter on its real server against its framework.

Every contender on one server runs in the same process, and rounds interleave them, so ratios hold
while a noisy machine drifts. Server CPU per message comes from the server processes' own CPU time
(/proc), so the load generator's cost is excluded; the generator's own CPU share is reported.

    uv run python bench/run.py            # make bench: the full run
    uv run python bench/run.py --quick    # make bench-quick: under a minute
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any
from uuid import uuid4

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests-integration"), str(ROOT / "bench" / "apps")]

from websockets.asyncio.client import connect  # noqa: E402

from beeflow_websocket.core.settings import DispatcherSettings  # noqa: E402
from beeflow_websocket.core.testing import ActionTestClient  # noqa: E402

from serving import Server, free_port, start_server  # noqa: E402

OUT = ROOT / "docs" / "benchmarks"
TICKS = os.sysconf("SC_CLK_TCK")
LOAD_PROCESSES = 2
CONTENDERS = {"beeflow": "/ws/", "raw echo": "/echo/", "hand-written JSON": "/json/"}


def commands(port: int) -> dict[str, list[str]]:
    python = sys.executable
    return {
        "django (daphne)": [python, "-m", "daphne", "-v", "0", "-b", "127.0.0.1", "-p", str(port), "benchdjango.asgi:application"],
        "fastapi (uvicorn)": [
            python, "-m", "uvicorn", "benchfastapi.main:app", "--host", "127.0.0.1", "--port", str(port),
            "--log-level", "warning", "--no-access-log",
        ],
        "flask (gunicorn gthread)": [
            python, "-m", "gunicorn", "benchflask.main:app", "--bind", f"127.0.0.1:{port}",
            "--worker-class", "gthread", "--threads", "64", "--workers", "1", "--log-level", "warning",
            "--no-control-socket",
        ],
    }  # fmt: skip


def server_cpu_seconds(pid: int) -> float:
    """CPU time of a server process and its direct children (gunicorn's worker)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry.name) == pid or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / TICKS
    return total


def envelope() -> str:
    return json.dumps({"msg_id": str(uuid4()), "req_id": str(uuid4()), "action": "health", "payload": {}})


async def _client_load(url: str, connections: int, stop_at: float) -> int:
    """One load process: ``connections`` connections, each a request then its answer, until ``stop_at``."""
    sockets = [await connect(url, max_size=None) for _ in range(connections)]
    count = 0

    async def loop(ws: Any) -> None:
        nonlocal count
        while time.time() < stop_at:
            await ws.send(envelope())
            await ws.recv()
            count += 1

    await asyncio.gather(*(loop(ws) for ws in sockets))
    for ws in sockets:
        await ws.close()
    return count


def _client_process(url: str, connections: int, start_at: float, stop_at: float) -> tuple[int, float]:
    time.sleep(max(0.0, start_at - time.time()))
    cpu = time.process_time()
    count = asyncio.run(_client_load(url, connections, stop_at))
    return count, time.process_time() - cpu


async def throughput(server: Server, path: str, connections: int, seconds: float) -> dict[str, float]:
    """N connections spread over load processes, each sending a request and waiting for its answer.

    The load runs in ``LOAD_PROCESSES`` processes so that the generator is not what limits a fast
    server; its CPU share (of all cores) is reported.
    """
    processes = min(LOAD_PROCESSES, connections)
    start_at = time.time() + 1.0
    stop_at = start_at + seconds
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(processes) as pool:
        futures = [
            loop.run_in_executor(
                pool, _client_process, server.url(path), connections // processes, start_at, stop_at
            )
            for _ in range(processes)
        ]
        await asyncio.sleep(max(0.0, start_at - time.time()))
        cpu_before = server_cpu_seconds(server.process.pid)
        results = await asyncio.gather(*futures)
        server_cpu = server_cpu_seconds(server.process.pid) - cpu_before
    count = sum(result[0] for result in results)
    client_cpu = sum(result[1] for result in results)
    return {
        "messages_per_second": count / seconds,
        "server_cpu_us_per_message": server_cpu / count * 1e6,
        "client_cpu_share": client_cpu / seconds / (os.cpu_count() or 1),
    }


async def latency(server: Server, path: str, requests: int) -> dict[str, float]:
    """One connection, sequential round trips."""
    samples = []
    async with connect(server.url(path)) as ws:
        for _ in range(requests):
            started = time.perf_counter()
            await ws.send(envelope())
            await ws.recv()
            samples.append((time.perf_counter() - started) * 1e6)
    samples.sort()
    return {"p50_us": statistics.median(samples), "p99_us": samples[int(len(samples) * 0.99) - 1]}


async def core(frames: int) -> dict[str, dict[str, float]]:
    """Frames through the dispatcher in process, pipelined, no network: health and a 1 KiB echo."""
    from collections.abc import AsyncIterator

    from pydantic import BaseModel

    from beeflow_websocket.core.action_registry import Action, ActionContext
    from beeflow_websocket.core.event_registry import Event
    from beeflow_websocket.core.payloads import ActionMessage

    class Text(BaseModel):
        text: str

    class Echoed(Event[Text], name="bench.echoed"):
        pass

    class Echo(Action[Text], name="bench.echo"):
        async def execute(
            self, message: ActionMessage[Text], context: ActionContext
        ) -> AsyncIterator[Echoed]:
            yield Echoed(
                recipient="websocket",
                recipient_id=context.websocket_id,
                req_id=message.req_id,
                payload=message.payload,
            )

    results = {}
    settings = DispatcherSettings(max_pending_messages=1024, max_outbound_messages=4096)
    for name, action, payload in (
        ("health", "health", {}),
        ("typed echo, 1 KiB", "bench.echo", {"text": "x" * 1024}),
    ):
        client = ActionTestClient(settings=settings)
        await client.open()
        batch = [
            json.dumps({"msg_id": str(uuid4()), "req_id": str(uuid4()), "action": action, "payload": payload})
            for _ in range(frames)
        ]
        started, cpu = time.perf_counter(), time.process_time()
        for frame in batch:
            await client.dispatcher.receive(frame)
        await client.dispatcher.wait_idle()
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        assert len(client.raw_frames) == frames
        results[name] = {"frames_per_second": frames / wall, "cpu_us_per_frame": cpu / frames * 1e6}
        await client.close()
    return results


def machine() -> dict[str, Any]:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "?",
    )
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "system": platform.platform(),
    }


async def main(quick: bool) -> dict[str, Any]:
    rounds, seconds, connections, latency_requests = (1, 3.0, 16, 300) if quick else (3, 8.0, 16, 2000)
    results: dict[str, Any] = {
        "machine": machine(),
        "settings": {"rounds": rounds, "seconds": seconds, "connections": connections},
    }
    results["core"] = await core(5_000 if quick else 50_000)
    servers = {}
    workdir = Path(tempfile.mkdtemp(prefix="beeflow-bench-"))
    env = {"PYTHONPATH": os.pathsep.join([str(ROOT / "bench" / "apps")])}
    try:
        for name in commands(0):
            port = free_port()
            servers[name] = start_server(
                name, commands(port)[name], workdir / f"{name.split()[0]}.log", port, env
            )
        runs: dict[str, dict[str, list[dict[str, float]]]] = {
            name: {c: [] for c in CONTENDERS} for name in servers
        }
        for _ in range(rounds):
            for name, server in servers.items():
                for contender, path in CONTENDERS.items():
                    runs[name][contender].append(await throughput(server, path, connections, seconds))
        results["adapters"] = {}
        for name, server in servers.items():
            results["adapters"][name] = {}
            for contender, path in CONTENDERS.items():
                samples = runs[name][contender]
                summary = {key: statistics.median(sample[key] for sample in samples) for key in samples[0]}
                summary |= await latency(server, path, latency_requests)
                results["adapters"][name][contender] = summary
    finally:
        for server in servers.values():
            server.stop()
    return results


def targets(results: dict[str, Any]) -> list[tuple[str, str, bool]]:
    rows = []
    health = results["core"]["health"]["frames_per_second"]
    rows.append(("core: ≥ 50,000 health frames/s in process", f"{health:,.0f}/s", health >= 50_000))
    for name, contenders in results["adapters"].items():
        ours = contenders["beeflow"]["server_cpu_us_per_message"]
        theirs = contenders["hand-written JSON"]["server_cpu_us_per_message"]
        rows.append(
            (
                f"{name}: server CPU/msg ≤ 1.15× hand-written JSON",
                f"{ours / theirs:.2f}×",
                ours / theirs <= 1.15,
            )
        )
    return rows


def markdown(results: dict[str, Any]) -> str:
    m = results["machine"]
    lines = [
        "# Benchmarks",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}, {m['system']}.",
        f"Run: {results['settings']['rounds']} interleaved rounds of {results['settings']['seconds']} s, "
        f"{results['settings']['connections']} connections; medians. Written by `make bench` (`bench/run.py`).",
        "",
        "## Core, in process (no network)",
        "",
        "| Frames | Frames/s | CPU µs/frame |",
        "| --- | ---: | ---: |",
    ]
    for name, row in results["core"].items():
        lines.append(f"| {name} | {row['frames_per_second']:,.0f} | {row['cpu_us_per_frame']:.1f} |")
    lines += ["", "## Each adapter on its server", "",
              "| Server | Contender | Messages/s | Server CPU µs/msg | Latency p50 µs | p99 µs | Client CPU share |",
              "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]  # fmt: skip
    for name, contenders in results["adapters"].items():
        for contender, row in contenders.items():
            lines.append(
                f"| {name} | {contender} | {row['messages_per_second']:,.0f} | {row['server_cpu_us_per_message']:.0f} "
                f"| {row['p50_us']:.0f} | {row['p99_us']:.0f} | {row['client_cpu_share']:.0%} |"
            )
    lines += ["", "## Targets", "", "| Target | Measured | |", "| --- | ---: | --- |"]
    for target, measured, passed in targets(results):
        lines.append(f"| {target} | {measured} | {'pass' if passed else 'FAIL'} |")
    lines += [
        "",
        f"The load generator runs in {LOAD_PROCESSES} processes on the same {m['cores']}-core machine; its CPU",
        "share is of all cores. Where it nears 100%, the generator limited the run and that server's",
        "throughput is a floor; CPU per message, measured on the server alone, still holds.",
        "",
        "Not measured yet: beeflow-websocket 0.3.0 (not installable from the package index here), the peers",
        "(chanx, djangochannelsrestframework, python-socketio), a bare `websockets` server, idle memory per",
        "connection, and fan-out to a group.",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="one short round: under a minute")
    arguments = parser.parse_args()
    outcome = asyncio.run(main(arguments.quick))
    OUT.mkdir(parents=True, exist_ok=True)
    suffix = "-quick" if arguments.quick else ""
    (OUT / f"results{suffix}.json").write_text(json.dumps(outcome, indent=2) + "\n")
    (OUT / f"results{suffix}.md").write_text(markdown(outcome))
    print(markdown(outcome))
