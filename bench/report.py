"""Turn a run's results into the targets' verdicts, a Markdown table and a PNG chart."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

from contenders import BASELINE_NAME, BEEFLOW, BEEFLOW_V1, DJANGO, ECHO, FASTAPI, FLASK, HANDWRITTEN

#: How much faster than 0.3.0 each adapter must be (throughput, same server, same run).
BASELINE_TARGETS = {DJANGO: 2.0, FASTAPI: 1.5, FLASK: 4.0}
CPU_TARGET = 1.15
MEMORY_TARGET = 1.1
CORE_TARGET = 50_000
V1_CPU_TARGET = 1.10
CANCEL_TARGET_MS = 50
"""A request cancelled after 5 of 50 events has run its ``finally`` this soon after the cancel arrives."""
"""Protocol v1 marks each answer final and tracks its request: at most 10% more CPU per health frame."""
PEERS = {"chanx", "djangochannelsrestframework", "python-socketio"}


def by_server(results: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    grouped: dict[str, dict[str, dict[str, Any]]] = {}
    for row in results["contenders"].values():
        grouped.setdefault(row["server"], {})[row["name"]] = row
    return grouped


def _measured(row: dict[str, Any] | None, key: str) -> dict[str, float] | None:
    if row is None or row.get("problem"):
        return None
    value = row.get(key)
    return value if isinstance(value, dict) else None


def _verdict(
    server: str, row: dict[str, Any], other: str, goal: tuple[str, str, float, bool], what: str
) -> tuple[str, str, str]:
    """Beeflow against ``other`` on one server: ``goal`` is (section, key, target, higher is better)."""
    section, key, target, higher = goal
    mine, theirs = _measured(row.get(BEEFLOW), section), _measured(row.get(other), section)
    if mine is None or theirs is None:
        reason = (row.get(other) or {}).get("problem") or "not in this run"
        return f"{server}: {what}", "—", f"not measured: {reason}"
    value = mine[key] / theirs[key]
    passed = value >= target if higher else value <= target
    return f"{server}: {what}", f"{value:.2f}×", "pass" if passed else "FAIL"


def _floor(row: dict[str, Any]) -> str:
    """What the framework's own echo reaches against 0.3.0: no library on top of it can go past that."""
    echo, baseline = _measured(row.get(ECHO), "throughput"), _measured(row.get(BASELINE_NAME), "throughput")
    if echo is None or baseline is None:
        return ""
    return f" (raw echo: {echo['messages_per_second'] / baseline['messages_per_second']:.2f}×)"


def targets(results: dict[str, Any]) -> list[tuple[str, str, str]]:
    """Each target as (what, measured, verdict); a verdict is pass, FAIL or not measured."""
    rows = []
    health = results["core"]["health"]["frames_per_second"]
    rows.append((f"core: ≥ {CORE_TARGET:,} health frames/s in process", f"{health:,.0f}/s",
                 "pass" if health >= CORE_TARGET else "FAIL"))  # fmt: skip
    cancel = results.get("cancel")
    if cancel is not None:
        worst = cancel["stopped_ms_max"]
        rows.append((f"core: a cancel stops a stream within {CANCEL_TARGET_MS} ms (worst of the rounds)",
                     f"{worst:.1f} ms", "pass" if worst <= CANCEL_TARGET_MS else "FAIL"))  # fmt: skip
    for server, row in by_server(results).items():
        if _measured(row.get(BEEFLOW), "throughput") is None:
            continue
        rows.append(_verdict(server, row, HANDWRITTEN, ("throughput", "server_cpu_us_per_message", CPU_TARGET, False),
                             f"server CPU/msg ≤ {CPU_TARGET}× hand-written JSON"))  # fmt: skip
        rows.append(_verdict(server, row, ECHO, ("memory", "rss_per_connection_kib", MEMORY_TARGET, False),
                             f"idle memory/connection ≤ {MEMORY_TARGET}× raw framework"))  # fmt: skip
        v1 = _measured(row.get(BEEFLOW_V1), "throughput")
        if v1 is not None:
            ratio = _paired_cpu_ratio(row[BEEFLOW_V1], row[BEEFLOW])
            rows.append((f"{server}: protocol v1 server CPU/msg ≤ {V1_CPU_TARGET}× protocol 0", f"{ratio:.2f}×",
                         "pass" if ratio <= V1_CPU_TARGET else "FAIL"))  # fmt: skip
        if server in BASELINE_TARGETS:
            goal = BASELINE_TARGETS[server]
            verdict = _verdict(server, row, BASELINE_NAME, ("throughput", "messages_per_second", goal, True),
                               f"throughput ≥ {goal}× beeflow 0.3.0")  # fmt: skip
            rows.append((verdict[0], verdict[1] + _floor(row), verdict[2]))
        for peer in sorted(PEERS & row.keys()):
            rows.append(_verdict(server, row, peer, ("throughput", "messages_per_second", 1.0, True),
                                 f"throughput ahead of {peer}"))  # fmt: skip
    return rows


def _paired_cpu_ratio(row: dict[str, Any], base: dict[str, Any]) -> float:
    """Server CPU per message of ``row`` over ``base``: the median of the rounds' own ratios.

    The two ran back to back in each round, so a round's ratio holds while the machine drifts
    between rounds; a ratio of medians taken from different rounds does not (Django 1.18x in one
    full run, 0.98x in the next, with the code unchanged). Runs written before rounds were kept
    fall back to the ratio of medians.
    """
    key = "server_cpu_us_per_message"
    rounds, base_rounds = row.get("throughput_rounds"), base.get("throughput_rounds")
    if not rounds or not base_rounds or len(rounds) != len(base_rounds):
        return float(row["throughput"][key] / base["throughput"][key])
    return statistics.median(own[key] / other[key] for own, other in zip(rounds, base_rounds, strict=True))


def _cell(value: float | None, form: str) -> str:
    return "—" if value is None else format(value, form)


def markdown(results: dict[str, Any], chart: Path | None) -> str:
    m, s = results["machine"], results["settings"]
    lines = [
        "# Benchmarks",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}, {m['system']}.",
        f"Run: {s['rounds']} interleaved round(s) of {s['seconds']} s per contender, {s['connections']} "
        f"connections, medians; latency over {s['latency_requests']} sequential round trips; memory with "
        f"{s['idle_connections']} idle connections; fan-out to {s['fanout_members']} members, "
        f"{s['fanout_repeats']} repeats. Written by `make bench` (`bench/run.py`).",
        "",
        "## Core, in process (no network)",
        "",
        "| Frames | Frames/s | CPU µs/frame |",
        "| --- | ---: | ---: |",
    ]
    for name, row in results["core"].items():
        lines.append(f"| {name} | {row['frames_per_second']:,.0f} | {row['cpu_us_per_frame']:.1f} |")
    lines += ["", "## Each contender on its server", ""]
    if chart is not None:
        lines += [f"![Throughput and server CPU per message]({chart.name})", ""]
    lines += [
        "| Server | Contender | Messages/s | Server CPU µs/msg | p50 µs | p99 µs | Idle KiB/conn | Client CPU |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    problems = []
    for server, row in by_server(results).items():
        for name, result in row.items():
            if result.get("problem"):
                problems.append(f"- {server}, {name}: not measured. {result['problem']}")
                continue
            if result.get("fanout_problem"):
                problems.append(f"- {server}, {name}: fan-out not measured. {result['fanout_problem']}")
            t, lat, mem = (
                result.get("throughput") or {},
                result.get("latency") or {},
                result.get("memory") or {},
            )
            lines.append(
                f"| {server} | {name} | {_cell(t.get('messages_per_second'), ',.0f')} "
                f"| {_cell(t.get('server_cpu_us_per_message'), '.0f')} | {_cell(lat.get('p50_us'), '.0f')} "
                f"| {_cell(lat.get('p99_us'), '.0f')} | {_cell(mem.get('rss_per_connection_kib'), '.1f')} "
                f"| {_cell(t.get('client_cpu_share'), '.0%')} |"
            )
    fanouts = [
        (row["server"], row["name"], row["fanout"])
        for row in results["contenders"].values()
        if row.get("fanout")
    ]
    if fanouts:
        lines += ["", "## Fan-out: one request to a group", "",
                  "| Server | Contender | Members | Last member p50 ms | p99 ms |", "| --- | --- | ---: | ---: | ---: |"]  # fmt: skip
        for server, name, f in fanouts:
            lines.append(f"| {server} | {name} | {f['members']:,} | {f['p50_ms']:.1f} | {f['p99_ms']:.1f} |")
    lines += ["", "## Targets", "", "| Target | Measured | Verdict |", "| --- | ---: | --- |"]
    for target, measured, verdict in targets(results):
        lines.append(f"| {target} | {measured} | {verdict} |")
    if problems:
        lines += ["", "## Not measured", "", *problems]
    lines += [
        "",
        "## How to read this",
        "",
        "- Every contender runs in a server process of its own; peers and earlier releases run in virtual",
        "  environments of their own (`.bench/venvs/`), on the same versions of the server and framework.",
        "- Server CPU per message comes from the server's own CPU time (/proc), so the load generator's",
        f"  cost is excluded. The generator runs in {results['settings']['load_processes']} processes on the "
        f"same {m['cores']}-core machine, each driving",
        "  its connections from picows frame callbacks (a request is sent from the callback that received",
        "  the answer), so it costs far less per message than the servers do. Its CPU share is of all",
        "  cores; where it nears 100%, the generator limited that row's throughput, while CPU per message",
        "  still holds. Latency, memory and fan-out use the `websockets` client.",
        "- Each contender answers its closest equivalent of `health`: the raw echo returns the request, the",
        "  hand-written JSON route parses, dispatches and replies as a user would without a library, chanx",
        "  and djangochannelsrestframework reply from a typed handler, python-socketio acknowledges an event.",
        "- On Django, every Channels consumer (the raw echo, the hand-written JSON, chanx and",
        "  djangochannelsrestframework) closes stale database connections before each message through a",
        "  worker thread; Beeflow's consumer does so on connect, on disconnect and at most once a second,",
        "  which is why it is cheaper per message than the hand-written consumer there.",
        "- A throughput target against 0.3.0 can only be met where the framework's floor allows it: the",
        "  raw echo's own ratio to 0.3.0 is shown beside each such verdict.",
        "- Protocol v1 against protocol 0 is the median of each round's own ratio: the two run back to",
        "  back in every round, so the ratio holds while the machine drifts between rounds.",
        "- Idle memory is the growth of the server's resident set per connection, each connection having",
        "  completed one round trip. Fan-out is the time from sending one request until the last member of",
        "  the group has received its frame; members are spread over the load processes.",
    ]
    return "\n".join(lines) + "\n"


def chart(results: dict[str, Any], path: Path) -> Path | None:
    """Throughput and server CPU per message, by server and contender; None without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    rows = [
        (f"{row['server']}\n{row['name']}", row["throughput"])
        for row in results["contenders"].values()
        if not row.get("problem") and row.get("throughput")
    ]
    labels = [label for label, _ in rows]
    colours = ["#d9822b" if label.endswith(f"\n{BEEFLOW}") else "#5c7080" for label in labels]
    figure, (rate, cpu) = plt.subplots(1, 2, figsize=(14, 0.42 * len(rows) + 1.5), sharey=True)
    positions = range(len(rows))
    rate.barh(positions, [t["messages_per_second"] for _, t in rows], color=colours)
    rate.set_xlabel("messages per second (higher is better)")
    cpu.barh(positions, [t["server_cpu_us_per_message"] for _, t in rows], color=colours)
    cpu.set_xlabel("server CPU µs per message (lower is better)")
    rate.set_yticks(list(positions), labels, fontsize=8)
    rate.invert_yaxis()
    for axis in (rate, cpu):
        axis.grid(axis="x", alpha=0.3)
    figure.suptitle(f"beeflow-websocket round trips, {results['machine']['cores']} cores, "
                    f"{results['settings']['connections']} connections")  # fmt: skip
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
