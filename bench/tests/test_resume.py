"""The resume run's verdict: every target from the numbers alone, and the table that shows it."""

import copy
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path[:0] = [
    str(Path(__file__).resolve().parent.parent),
    str(Path(__file__).resolve().parents[2] / "testkit"),
]

from resume import markdown, met  # noqa: E402

MEASURED: dict[str, Any] = {
    "adapter": "fastapi",
    "missed": {"rounds": 20, "exactly the missed": 20, "p50 ms": 11.2, "p95 ms": 13.5},
    "too old": "unrecoverable_position: expired",
    "memory": {"bytes per stream": 8591.0, "bytes of one stream (keys)": 9907, "events": 50},
    "connection bytes": 550.2,
    "cpu": {
        "server kept µs": 735.0,
        "server not kept µs": 675.0,
        "redis kept µs": 80.0,
        "redis not kept µs": 40.0,
    },
    "random": {
        "runs": 1000,
        "recovered": 999,
        "told to reload": 1,
        "partial": 0,
        "silent losses": 0,
        "refused pushes": 0,
    },
}


def test_a_run_within_every_target_passes() -> None:
    assert met(MEASURED)
    row = (
        "| fastapi | 20/20 | 11 | 14 | unrecoverable_position: expired | 999 / 1 of 1000 | 0 | 0 | 0 "
        "| 8,591 | 550 | 735 / 675 | 80.0 / 40.0 | pass |"
    )
    assert row in markdown([MEASURED])


@pytest.mark.parametrize(
    ("part", "key", "value"),
    [
        ("missed", "exactly the missed", 19),  # a round got other events than the missed ones
        ("missed", "p95 ms", 260.0),  # slower than 250 ms p95
        ("random", "partial", 1),  # a resume that completed without every event
        ("random", "silent losses", 1),  # an accepted push never arrived, untold
        ("random", "dropped runs", 1),  # a run that could not finish
        (None, "too old", "beeflow.complete: None"),  # more than kept, yet answered as recovered
    ],
)
def test_each_target_missed_fails_the_run(part: str | None, key: str, value: object) -> None:
    missed = copy.deepcopy(MEASURED)
    (missed if part is None else missed[part])[key] = value
    assert not met(missed)
    assert "FAIL" in markdown([missed])
