"""Virtual environments for the contenders that cannot live in the workspace: peers and old releases.

Each gets its own environment, built once with uv and kept under ``.bench/``. The servers and
frameworks they run on are pinned to the versions the workspace has, so that a peer and Beeflow
are measured on the same daphne, uvicorn, Django and FastAPI.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".bench" / "venvs"

#: Distributions whose version follows the workspace's, so that every contender runs on the same stack.
SHARED_STACK = ("django", "channels", "daphne", "fastapi", "starlette", "uvicorn", "flask", "flask-sock",
                "gunicorn", "simple-websocket", "pydantic", "websockets", "uvloop", "httptools")  # fmt: skip


@dataclass(frozen=True)
class Environment:
    """Where a contender runs: a Python interpreter, or why there is none."""

    python: str | None
    problem: str | None = None


WORKSPACE = Environment(python=sys.executable)


def stack_constraints() -> list[str]:
    """The workspace's versions of the shared stack, as pip constraints."""
    pins = []
    for name in SHARED_STACK:
        try:
            pins.append(f"{name}=={version(name)}")
        except PackageNotFoundError:
            continue
    return pins


def environment(name: str, requirements: list[str]) -> Environment:
    """A virtual environment with ``requirements`` installed, built on first use.

    An install that fails (a release the package index does not have, say) gives an environment
    with no interpreter and the installer's last words, so the run reports the contender as not
    measured instead of stopping.
    """
    constraints = stack_constraints()
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    digest = hashlib.sha256("\n".join([python, *requirements, *constraints]).encode()).hexdigest()[:12]
    venv = CACHE / f"{name}-{digest}"
    interpreter = venv / "bin" / "python"
    if interpreter.exists():
        return Environment(python=str(interpreter))
    uv = shutil.which("uv")
    if uv is None:
        return Environment(python=None, problem="uv is not on PATH")
    shutil.rmtree(venv, ignore_errors=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    pins = CACHE / f"{name}-{digest}.constraints.txt"
    pins.write_text("\n".join(constraints) + "\n")
    steps = [
        [uv, "venv", "--quiet", "--python", sys.executable, str(venv)],
        [
            uv,
            "pip",
            "install",
            "--quiet",
            "--python",
            str(interpreter),
            "--constraint",
            str(pins),
            *requirements,
        ],
    ]
    for step in steps:
        outcome = subprocess.run(step, capture_output=True, text=True, check=False)
        if outcome.returncode != 0:
            shutil.rmtree(venv, ignore_errors=True)
            last = (outcome.stderr or outcome.stdout).strip().splitlines()
            return Environment(python=None, problem=" ".join(last[-2:]) or f"exit {outcome.returncode}")
    return Environment(python=str(interpreter))
