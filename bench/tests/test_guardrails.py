"""The guardrails run's verdict: every target from the numbers alone, and the table that shows it."""

import copy
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path[:0] = [str(Path(__file__).resolve().parent.parent)]

from guardrails import markdown, met  # noqa: E402

MEASURED: dict[str, Any] = {
    "adapter": "fastapi",
    "kick": {"kicks": 50, "p50 ms": 1.0, "p99 ms": 2.9},
    "flood": {
        "neighbour p99 µs": 674.0,
        "neighbour p99 µs, flooded": 625.0,
        "p99 ratio": 0.93,
        "flood refused": 918,
        "flood refused with retry_after": 918,
    },
    "user limit": {"let through": 138, "allowed by the limit": 140.0, "ratio": 0.99},
    "expiry": {
        "unrenewed": 10,
        "unrenewed closed": 10,
        "latest close after expiry s": 0.52,
        "grace s": 0.5,
        "renewed": 10,
        "renewed still open": 10,
    },
}


def test_a_run_within_every_target_passes() -> None:
    assert met(MEASURED)
    row = "| fastapi | 1.0 | 2.9 | 674 | 625 | 0.93 | 918 (918) | 138 / 140 (0.99) | 10/10, 0.52 | 10/10 | pass |"
    assert row in markdown([MEASURED])


@pytest.mark.parametrize(
    ("part", "key", "value"),
    [
        ("kick", "p99 ms", 1200.0),  # slower than a second
        ("flood", "p99 ratio", 1.12),  # the neighbour moved by more than 10%
        ("flood", "flood refused with retry_after", 900),  # some 429s without retry_after
        ("flood", "flood refused", 0),  # the flood was never refused
        ("user limit", "ratio", 1.15),  # the user's limit leaked across processes
        ("user limit", "ratio", 0.85),  # or held it back too far
        ("expiry", "unrenewed closed", 9),  # an expired connection stayed
        ("expiry", "latest close after expiry s", 0.9),  # or closed long after its grace
        ("expiry", "renewed still open", 9),  # a renewed one was closed
    ],
)
def test_each_target_missed_fails_the_run(part: str, key: str, value: float) -> None:
    missed = copy.deepcopy(MEASURED)
    missed[part][key] = value
    if key == "flood refused":
        missed[part]["flood refused with retry_after"] = value

    assert not met(missed)
    assert markdown([missed]).count("| FAIL |") == 1
