"""Every complete Python example of README.md, docs/en and docs/pl runs, and type-checks strictly.

Each runs in a fresh interpreter (examples register actions under the same names), beside a small
``my_app`` (``project/``) that stands for the application the examples import. A block marked
``<!-- fragment -->`` on the line before its fence is part of a larger program and is only parsed.
"""

import ast
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from docexamples import REPOSITORY, Example, examples

PROJECT = Path(__file__).resolve().parent / "project"
ALL = examples()
COMPLETE = [example for example in ALL if not example.fragment]


def run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"PYTHONPATH": str(PROJECT)}
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=120)


def test_the_examples_are_found_and_few_are_fragments() -> None:
    # When this was written: 66 examples, 30 of them complete; marking more as fragments needs a reason.
    assert len(ALL) >= 60
    assert len(COMPLETE) >= 30


@pytest.mark.parametrize("example", COMPLETE, ids=[example.name for example in COMPLETE])
def test_a_complete_example_runs(example: Example, tmp_path: Path) -> None:
    source = tmp_path / "test_example.py"
    source.write_text(example.code)
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(source)]
    if not example.is_test:
        command = [sys.executable, str(source)]

    completed = run(command, tmp_path)

    assert completed.returncode == 0, f"{example.name}\n{completed.stdout}\n{completed.stderr}"


FRAGMENTS = [example for example in ALL if example.fragment]


@pytest.mark.parametrize("example", FRAGMENTS, ids=[example.name for example in FRAGMENTS])
def test_a_fragment_is_valid_python_inside_a_function(example: Example) -> None:
    # A fragment may await or yield at its top level, as the body of the function it belongs in.
    ast.parse("async def fragment():\n" + textwrap.indent(example.code, "    ") + "    pass\n")


def test_the_complete_examples_pass_mypy_strict(tmp_path: Path) -> None:
    """As a user's ``mypy --strict`` with the pydantic plugin would check them (not this repository's
    stricter configuration)."""
    typed = [example for example in COMPLETE if "->" in example.code]
    names = {}
    for number, example in enumerate(typed):
        path = tmp_path / f"example_{number}.py"
        path.write_text(example.code)
        names[path.name] = example.name
    config = tmp_path / "mypy.ini"
    config.write_text("[mypy]\nstrict = True\nplugins = pydantic.mypy\nignore_missing_imports = True\n")
    paths = os.pathsep.join(
        [str(PROJECT), *(str(path) for path in sorted((REPOSITORY / "packages").glob("*/src")))]
    )
    completed = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(config), "--no-incremental", "--cache-dir",
         str(tmp_path / "cache"), *names],
        env=os.environ | {"MYPYPATH": paths}, capture_output=True, text=True, check=False, cwd=tmp_path,
    )  # fmt: skip

    report = completed.stdout
    for path, name in names.items():
        report = report.replace(path, name)
    assert completed.returncode == 0, report
