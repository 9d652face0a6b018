"""The published shape: six wheels and six sdists, installable outside the workspace.

Builds every distribution, then installs them into fresh virtual environments from the built files
(``--find-links``, never the workspace) and checks what each install target brings.
"""

import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

DISTRIBUTIONS = {
    "beeflow_websocket": None,
    "beeflow_websocket_client": "client",
    "beeflow_websocket_core": "core",
    "beeflow_websocket_django": "django",
    "beeflow_websocket_fastapi": "fastapi",
    "beeflow_websocket_flask": "flask",
}
OURS = [name.replace("_", "-") for name in DISTRIBUTIONS]
# Each distribution is versioned on its own; the client started at 0.1.0.
VERSION = {name: "0.1.0" if name == "beeflow_websocket_client" else "0.4.0" for name in DISTRIBUTIONS}
FRAMEWORKS = {"django", "channels", "fastapi", "starlette", "flask", "flask-sock", "werkzeug"}
DOCUMENTED_IMPORT = re.compile(r"^\s*from (beeflow_websocket\.[\w.]+) import ([\w, ]+)$", re.MULTILINE)


def run(*command: str | Path) -> str:
    result = subprocess.run([str(part) for part in command], capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory, repository: Path, uv: str) -> Path:
    out = tmp_path_factory.mktemp("dist")
    run(uv, "build", "--all-packages", "--out-dir", out, "--directory", repository)
    return out


def install(uv: str, dist: Path, venv: Path, *requirements: str) -> set[str]:
    """Install from the built files into a new environment; return the installed distribution names."""
    run(uv, "venv", "--quiet", "--python", sys.executable, venv)
    python = venv / "bin" / "python"
    run(
        uv,
        "pip",
        "install",
        "--quiet",
        "--python",
        python,
        "--find-links",
        dist,
        *(f"--refresh-package={n}" for n in OURS),
        *requirements,
    )
    listing = run(uv, "pip", "list", "--python", python, "--format", "freeze")
    return {line.split("==")[0].lower() for line in listing.splitlines() if "==" in line}


def test_six_wheels_and_six_sdists_at_their_versions(dist: Path) -> None:
    wheels = sorted(path.name for path in dist.glob("*.whl"))
    sdists = sorted(path.name for path in dist.glob("*.tar.gz"))

    assert wheels == [f"{name}-{VERSION[name]}-py3-none-any.whl" for name in DISTRIBUTIONS]
    assert sdists == [f"{name}-{VERSION[name]}.tar.gz" for name in DISTRIBUTIONS]


@pytest.mark.parametrize(("distribution", "part"), DISTRIBUTIONS.items())
def test_each_wheel_holds_only_its_own_subpackage(dist: Path, distribution: str, part: str | None) -> None:
    version = VERSION[distribution]
    with zipfile.ZipFile(dist / f"{distribution}-{version}-py3-none-any.whl") as wheel:
        code = [
            name for name in wheel.namelist() if not name.startswith(f"{distribution}-{version}.dist-info/")
        ]

    assert "beeflow_websocket/__init__.py" not in code
    if part is None:
        assert code == []
    else:
        assert code, f"{distribution} ships no code"
        assert all(name.startswith(f"beeflow_websocket/{part}/") for name in code), code
        assert f"beeflow_websocket/{part}/py.typed" in code


@pytest.mark.parametrize("distribution", DISTRIBUTIONS)
def test_each_wheel_and_sdist_carries_the_licence_and_the_project_links(
    dist: Path, distribution: str
) -> None:
    version = VERSION[distribution]
    info = f"{distribution}-{version}.dist-info"
    with zipfile.ZipFile(dist / f"{distribution}-{version}-py3-none-any.whl") as wheel:
        metadata = wheel.read(f"{info}/METADATA").decode()
        licence = wheel.read(f"{info}/licenses/LICENSE").decode()
    with tarfile.open(dist / f"{distribution}-{version}.tar.gz") as sdist:
        in_sdist = sdist.extractfile(f"{distribution}-{version}/LICENSE")
        assert in_sdist is not None
        sdist_licence = in_sdist.read().decode()

    assert licence.startswith("MIT License")
    assert sdist_licence == licence
    assert "License-File: LICENSE" in metadata.splitlines()
    if distribution == "beeflow_websocket_core":
        # The contract page's vendored AsyncAPI web component keeps its own licence.
        viewer = "src/beeflow_websocket/core/asyncapi_viewer/LICENSE"
        assert "License-Expression: MIT AND Apache-2.0" in metadata.splitlines()
        assert f"License-File: {viewer}" in metadata.splitlines()
        with zipfile.ZipFile(dist / f"{distribution}-0.4.0-py3-none-any.whl") as wheel:
            assert "Apache License" in wheel.read(f"{info}/licenses/{viewer}").decode()
            assert (
                len(wheel.read("beeflow_websocket/core/asyncapi_viewer/asyncapi-web-component.js"))
                > 1_000_000
            )
    else:
        assert "License-Expression: MIT" in metadata.splitlines()
    links = {
        line.split(": ", 1)[1].split(",")[0]
        for line in metadata.splitlines()
        if line.startswith("Project-URL:")
    }
    assert {"Homepage", "Documentation", "Source", "Issues", "Changelog"} <= links


def test_the_meta_distribution_maps_extras_onto_siblings_with_compatible_ranges(dist: Path) -> None:
    with zipfile.ZipFile(dist / "beeflow_websocket-0.4.0-py3-none-any.whl") as wheel:
        metadata = wheel.read("beeflow_websocket-0.4.0.dist-info/METADATA").decode()

    requires = sorted(
        line.removeprefix("Requires-Dist: ")
        for line in metadata.splitlines()
        if line.startswith("Requires-Dist:")
    )
    assert requires == [
        "beeflow-websocket-client<0.2,>=0.1; extra == 'client'",
        "beeflow-websocket-core<0.5,>=0.4",
        "beeflow-websocket-core[redis]<0.5,>=0.4; extra == 'redis'",
        "beeflow-websocket-django<0.5,>=0.4; extra == 'django'",
        "beeflow-websocket-fastapi<0.5,>=0.4; extra == 'fastapi'",
        "beeflow-websocket-flask<0.5,>=0.4; extra == 'flask'",
    ]


def test_the_core_alone_brings_no_framework(tmp_path: Path, uv: str, dist: Path) -> None:
    installed = install(uv, dist, tmp_path / "venv", "beeflow-websocket-core")

    assert "beeflow-websocket-core" in installed
    assert "pydantic" in installed
    assert not installed & FRAMEWORKS
    assert not installed & (set(OURS) - {"beeflow-websocket-core"})


def test_the_client_brings_websockets_and_none_of_the_server(tmp_path: Path, uv: str, dist: Path) -> None:
    installed = install(uv, dist, tmp_path / "venv", "beeflow-websocket-client")

    assert {"beeflow-websocket-client", "websockets"} <= installed
    assert not installed & (FRAMEWORKS | {"pydantic"} | (set(OURS) - {"beeflow-websocket-client"}))


def test_the_fastapi_extra_brings_core_and_the_fastapi_adapter_only(
    tmp_path: Path, uv: str, dist: Path
) -> None:
    installed = install(uv, dist, tmp_path / "venv", "beeflow-websocket[fastapi]")

    assert {
        "beeflow-websocket",
        "beeflow-websocket-core",
        "beeflow-websocket-fastapi",
        "fastapi",
    } <= installed
    assert not installed & {
        "django",
        "channels",
        "flask",
        "beeflow-websocket-django",
        "beeflow-websocket-flask",
    }


def documented_imports(repository: Path) -> list[str]:
    documents = [repository / "README.md", *sorted((repository / "docs").rglob("*.md"))]
    statements = {
        f"from {module} import {names.strip().rstrip(',')}"
        for document in documents
        for module, names in DOCUMENTED_IMPORT.findall(document.read_text())
    }
    return sorted(statements)


def test_every_documented_import_works_from_the_installed_wheels(
    tmp_path: Path, uv: str, dist: Path, repository: Path
) -> None:
    statements = documented_imports(repository)
    assert len(statements) >= 10, "the documentation should show how to import the library"
    install(uv, dist, tmp_path / "venv", "beeflow-websocket[client,django,fastapi,flask]")
    script = "\n".join(statements) + "\nprint('ok')\n"

    assert run(tmp_path / "venv" / "bin" / "python", "-c", script).strip() == "ok"


def test_the_redis_extra_installs_redis_py_and_without_it_the_error_names_the_extra(
    tmp_path: Path, uv: str, dist: Path
) -> None:
    with_redis = install(uv, dist, tmp_path / "with", "beeflow-websocket[redis]")
    without = install(uv, dist, tmp_path / "without", "beeflow-websocket")
    attempt = subprocess.run(
        [tmp_path / "without" / "bin" / "python", "-c", "import beeflow_websocket.core.redis_delivery"],
        capture_output=True,
        text=True,
        check=False,
    )

    assert "redis" in with_redis
    assert "redis" not in without
    assert attempt.returncode == 1
    assert 'uv add "beeflow-websocket[redis]"' in attempt.stderr
