"""The benchmark's verdicts: a target passes, fails or is not measured, from the numbers alone."""

import sys
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent.parent)]

from report import markdown, targets  # noqa: E402


def row(server: str, name: str, rate: float, cpu: float, kib: float = 20.0) -> dict[str, object]:
    return {
        "server": server,
        "name": name,
        "throughput": {
            "messages_per_second": rate,
            "server_cpu_us_per_message": cpu,
            "client_cpu_share": 0.1,
        },
        "latency": {"p50_us": 100.0, "p99_us": 200.0},
        "memory": {"rss_before_mib": 50.0, "rss_per_connection_kib": kib},
    }


def results(*rows: dict[str, object], health: float = 60_000) -> dict[str, object]:
    return {
        "machine": {"cpu": "test", "cores": 2, "python": "3.12", "system": "test"},
        "settings": {"rounds": 1, "seconds": 1.0, "connections": 16, "latency_requests": 10,
                     "idle_connections": 10, "fanout_members": 10, "fanout_repeats": 1, "load_processes": 2},
        "core": {"health": {"frames_per_second": health, "cpu_us_per_frame": 10.0}},
        "contenders": {f"{r['server']}: {r['name']}": r for r in rows},
    }  # fmt: skip


def verdicts(outcome: dict[str, object]) -> dict[str, tuple[str, str]]:
    return {target: (measured, verdict) for target, measured, verdict in targets(outcome)}


def test_ratios_are_judged_in_the_direction_each_target_asks_for() -> None:
    outcome = results(
        row("FastAPI / uvicorn", "beeflow", rate=30_000, cpu=23.0, kib=21.0),
        row("FastAPI / uvicorn", "raw echo", rate=45_000, cpu=15.0, kib=20.0),
        row("FastAPI / uvicorn", "hand-written JSON", rate=40_000, cpu=20.0),
        row("FastAPI / uvicorn", "beeflow 0.3.0", rate=25_000, cpu=35.0),
        row("FastAPI / uvicorn", "chanx", rate=31_000, cpu=40.0),
    )

    found = verdicts(outcome)

    assert found["core: ≥ 50,000 health frames/s in process"] == ("60,000/s", "pass")
    assert found["FastAPI / uvicorn: server CPU/msg ≤ 1.15× hand-written JSON"] == ("1.15×", "pass")
    assert found["FastAPI / uvicorn: idle memory/connection ≤ 1.1× raw framework"] == ("1.05×", "pass")
    assert found["FastAPI / uvicorn: throughput ≥ 1.5× beeflow 0.3.0"] == ("1.20× (raw echo: 1.80×)", "FAIL")
    assert found["FastAPI / uvicorn: throughput ahead of chanx"] == ("0.97×", "FAIL")


def test_a_contender_that_could_not_run_is_reported_not_measured_with_its_reason() -> None:
    outcome = results(
        row("Django / daphne", "beeflow", rate=10_000, cpu=90.0),
        {"server": "Django / daphne", "name": "beeflow 0.3.0", "problem": "its environment could not be built: no such release"},
        health=40_000,
    )  # fmt: skip

    found = verdicts(outcome)
    text = markdown(outcome, chart=None)

    assert found["core: ≥ 50,000 health frames/s in process"] == ("40,000/s", "FAIL")
    assert found["Django / daphne: throughput ≥ 2.0× beeflow 0.3.0"] == (
        "—",
        "not measured: its environment could not be built: no such release",
    )
    assert (
        found["Django / daphne: server CPU/msg ≤ 1.15× hand-written JSON"][1]
        == "not measured: not in this run"
    )
    assert "- Django / daphne, beeflow 0.3.0: not measured. its environment could not be built" in text


def test_protocol_v1_is_judged_by_the_median_of_its_paired_rounds() -> None:
    # Round by round v1 costs 5% more, while the machine drifts between rounds: the ratio of the
    # medians (taken from different rounds) would say 1.25x, the paired rounds say 1.05x.
    base = row("Django / daphne", "beeflow", rate=5_000, cpu=100.0)
    v1 = row("Django / daphne", "beeflow, protocol v1", rate=4_000, cpu=125.0)
    base["throughput_rounds"] = [{"server_cpu_us_per_message": cpu} for cpu in (100.0, 120.0, 80.0)]
    v1["throughput_rounds"] = [{"server_cpu_us_per_message": cpu} for cpu in (105.0, 126.0, 84.0)]
    unpaired = row("FastAPI / uvicorn", "beeflow", rate=10_000, cpu=50.0)
    unpaired_v1 = row("FastAPI / uvicorn", "beeflow, protocol v1", rate=9_000, cpu=56.0)

    found = verdicts(results(base, v1, unpaired, unpaired_v1))

    assert found["Django / daphne: protocol v1 server CPU/msg ≤ 1.1× protocol 0"] == ("1.05×", "pass")
    assert found["FastAPI / uvicorn: protocol v1 server CPU/msg ≤ 1.1× protocol 0"] == ("1.12×", "FAIL")
