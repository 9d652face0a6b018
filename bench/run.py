"""Benchmarks: the core in process, and every contender on its real server, in one interleaved run.

Contenders are Beeflow on each adapter, each framework's floor (a raw echo and the hand-written JSON
a user would write instead), the peers a user would pick instead (chanx, djangochannelsrestframework,
python-socketio), Beeflow 0.3.0 and a bare ``websockets`` server. Each runs in a server process of its
own; throughput rounds interleave them so that ratios hold while a noisy machine drifts.

    uv run --group bench python bench/run.py            # make bench: the full run
    uv run --group bench python bench/run.py --quick    # make bench-quick: about a minute
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH), str(BENCH / "apps"), str(BENCH.parent / "testkit")]

from contenders import BASELINE, Contender, contenders  # noqa: E402
from environments import WORKSPACE, Environment, environment  # noqa: E402
from inproc import cancel_latency, core  # noqa: E402
from measure import LOAD_PROCESSES, fanout, idle_memory, latency, load_pool, ready, throughput  # noqa: E402
from report import chart, markdown, targets  # noqa: E402
from servers import RunningServer, ServerFailed, start  # noqa: E402

OUT = BENCH.parent / "docs" / "benchmarks"
FULL = {"rounds": 3, "seconds": 8.0, "connections": 16, "latency_requests": 2000, "idle_connections": 1000,
        "fanout_members": 1000, "fanout_repeats": 20, "core_frames": 50_000, "settle": 2.0, "cancel_rounds": 50}  # fmt: skip
QUICK = {"rounds": 1, "seconds": 1.0, "connections": 16, "latency_requests": 200, "idle_connections": 100,
         "fanout_members": 100, "fanout_repeats": 3, "core_frames": 5_000, "settle": 0.3, "cancel_rounds": 10}  # fmt: skip


STARTED = time.monotonic()


def say(what: str) -> None:
    print(f"[{time.monotonic() - STARTED:6.1f} s] {what}", flush=True)


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


def raise_file_limit() -> None:
    """A thousand connections on each side need more descriptors than the usual soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 8192 if hard == resource.RLIM_INFINITY else min(hard, 8192)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def where(contender: Contender) -> Environment:
    if contender.requirements is None:
        return WORKSPACE
    name = contender.requirements[0].split("[")[0].split("=")[0]
    return environment(name, list(contender.requirements))


async def launch(contender: Contender, workdir: Path, row: dict[str, Any]) -> RunningServer | None:
    """Start the contender's server and wait until it answers; record why not in ``row``."""
    env = where(contender)
    if env.python is None:
        row["problem"] = f"its environment could not be built: {env.problem}"
        return None
    server = start(contender, env.python, workdir)
    try:
        await ready(server)
    except ServerFailed as failure:
        row["problem"] = f"its server did not start: {failure}"
        server.stop()
        return None
    return server


async def main(settings: dict[str, Any], baseline: str, only: str | None) -> dict[str, Any]:
    results: dict[str, Any] = {
        "machine": machine(),
        "settings": settings | {"load_processes": LOAD_PROCESSES, "baseline": baseline},
        "contenders": {},
    }
    say("core, in process")
    results["core"] = await core(settings["core_frames"])
    results["cancel"] = await cancel_latency(settings["cancel_rounds"])
    workdir = Path(tempfile.mkdtemp(prefix="beeflow-bench-"))
    chosen = [c for c in contenders(baseline) if not only or only.lower() in c.label.lower()]
    rows = {c.label: {"server": c.server, "name": c.name} for c in chosen}
    results["contenders"] = rows
    say(f"start {len(chosen)} servers")
    for contender in chosen:
        where(contender)  # build missing environments one at a time, before the servers start
    launched = await asyncio.gather(*(launch(c, workdir, rows[c.label]) for c in chosen))
    servers = {server.contender.label: server for server in launched if server is not None}
    pool = load_pool()
    try:
        for label, server in servers.items():
            say(f"memory: {label}")
            rows[label]["memory"] = await idle_memory(
                server, settings["idle_connections"], settings["settle"]
            )
        samples: dict[str, list[dict[str, float]]] = {label: [] for label in servers}
        for round_ in range(settings["rounds"]):
            for label, server in servers.items():
                say(f"round {round_ + 1}: {label}")
                samples[label].append(
                    await throughput(server, pool, settings["connections"], settings["seconds"])
                )
        for label, server in servers.items():
            row = rows[label]
            row["throughput"] = {
                key: statistics.median(s[key] for s in samples[label]) for key in samples[label][0]
            }
            row["throughput_rounds"] = samples[label]  # paired ratios: v1 against protocol 0
            row["latency"] = await latency(server, settings["latency_requests"])
            if server.contender.fanout:
                say(f"fan-out: {label}")
                try:
                    row["fanout"] = await fanout(
                        server, settings["fanout_members"], settings["fanout_repeats"]
                    )
                except (RuntimeError, TimeoutError, OSError) as failure:
                    row["fanout_problem"] = f"{failure!r}: {server.tail()}"
    finally:
        pool.shutdown()
        for server in servers.values():
            server.stop()
    return results


def write(outcome: dict[str, Any], suffix: str) -> None:
    """The JSON results, the chart and the Markdown table, under docs/benchmarks/."""
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"results{suffix}.json").write_text(json.dumps(outcome, indent=2) + "\n")
    picture = chart(outcome, OUT / f"results{suffix}.png")
    (OUT / f"results{suffix}.md").write_text(markdown(outcome, picture))
    print(markdown(outcome, picture))
    failed = [target for target, _, verdict in targets(outcome) if verdict == "FAIL"]
    print(f"{len(failed)} target(s) missed" if failed else "every measured target met")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="one short round, fewer connections: about a minute"
    )
    parser.add_argument(
        "--baseline", default=BASELINE, help=f"the earlier release to install (default {BASELINE!r})"
    )
    parser.add_argument("--only", help="measure only the contenders whose label contains this text")
    parser.add_argument("--rounds", type=int, help="throughput rounds (default: 3, or 1 with --quick)")
    parser.add_argument(
        "--rewrite", action="store_true", help="rewrite the table and chart from the last results"
    )
    arguments = parser.parse_args()
    raise_file_limit()
    settings = (QUICK if arguments.quick else FULL) | (
        {"rounds": arguments.rounds} if arguments.rounds else {}
    )
    suffix = "-quick" if arguments.quick else ""
    if arguments.rewrite:
        write(json.loads((OUT / f"results{suffix}.json").read_text()), suffix)
    else:
        write(asyncio.run(main(settings, arguments.baseline, arguments.only)), suffix)
