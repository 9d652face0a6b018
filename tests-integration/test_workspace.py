"""The workspace's promises to maintainers: sibling ranges that admit each other, the 0.3.0 README's
development commands, one licence everywhere, and a release that runs exactly what CI runs.
"""

import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.version import Version

REPOSITORY = Path(__file__).resolve().parent.parent
VIEWER_LICENCE = "beeflow_websocket/core/asyncapi_viewer/LICENSE"
PROJECTS = {
    path.parent.name: tomllib.loads(path.read_text())["project"]
    for path in sorted((REPOSITORY / "packages").glob("*/pyproject.toml"))
}
VERSIONS = {name: Version(project["version"]) for name, project in PROJECTS.items()}


def sibling_requirements() -> list[tuple[str, str]]:
    """Every requirement of a distribution on a sibling: dependencies and every extra's."""
    found = []
    for name, project in PROJECTS.items():
        extras = project.get("optional-dependencies", {}).values()
        for line in [*project.get("dependencies", []), *(line for extra in extras for line in extra)]:
            if Requirement(line).name in PROJECTS:
                found.append((name, line))
    return found


def test_the_workspace_has_six_distributions() -> None:
    assert sorted(PROJECTS) == [
        "beeflow-websocket",
        "beeflow-websocket-client",
        "beeflow-websocket-core",
        "beeflow-websocket-django",
        "beeflow-websocket-fastapi",
        "beeflow-websocket-flask",
    ]


@pytest.mark.parametrize(("dependent", "line"), sibling_requirements())
def test_every_sibling_range_admits_the_sibling_s_current_version(dependent: str, line: str) -> None:
    requirement = Requirement(line)
    version = VERSIONS[requirement.name]

    # Workspace sources make uv ignore these ranges, so nothing else notices a bump that leaves one:
    # the published wheels would then refuse the combination the workspace tests.
    assert requirement.specifier.contains(version), f"{dependent} requires {line}, but it is at {version}"
    assert not any(spec.operator in {"==", "==="} for spec in requirement.specifier), line
    assert any(spec.operator == "<" for spec in requirement.specifier), f"{line} has no upper bound"


def test_the_meta_distribution_has_an_extra_for_each_adapter_the_client_and_redis() -> None:
    extras = PROJECTS["beeflow-websocket"]["optional-dependencies"]

    assert sorted(extras) == ["client", "django", "fastapi", "flask", "redis"]
    assert [Requirement(line).extras for line in extras["redis"]] == [{"redis"}]


@pytest.mark.parametrize(
    "extras",
    [
        ["dev"],
        ["dev", "django", "django-dev"],
        ["dev", "fastapi", "fastapi-dev"],
        ["dev", "flask", "flask-dev"],
        ["dev", "django", "django-dev", "fastapi", "fastapi-dev", "flask", "flask-dev"],
    ],
    ids=lambda extras: "+".join(extras),
)
def test_the_0_3_0_readme_s_development_commands_work(uv: str, extras: list[str]) -> None:
    options = [option for extra in extras for option in ("--extra", extra)]

    completed = subprocess.run(
        [uv, "sync", "--dry-run", "--locked", *options],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr


@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_every_distribution_declares_the_mit_licence_and_ships_the_file(name: str) -> None:
    project = PROJECTS[name]

    if name == "beeflow-websocket-core":
        # The contract page's vendored AsyncAPI web component keeps its own licence.
        assert project["license"] == "MIT AND Apache-2.0"
        assert project["license-files"] == ["LICENSE", f"src/{VIEWER_LICENCE}"]
        assert "Apache License" in (REPOSITORY / "packages" / name / "src" / VIEWER_LICENCE).read_text()
    else:
        assert project["license"] == "MIT"
        assert project["license-files"] == ["LICENSE"]
    assert (REPOSITORY / "packages" / name / "LICENSE").read_text() == (REPOSITORY / "LICENSE").read_text()
    assert {"Documentation", "Source", "Issues", "Changelog"} <= set(project["urls"])


def workflow(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((REPOSITORY / ".github" / "workflows" / name).read_text())
    return loaded


def test_a_release_runs_the_ci_workflow_before_it_builds() -> None:
    ci, publish = workflow("ci.yml"), workflow("publish.yml")
    # PyYAML reads the key `on` as the boolean True.
    triggers = ci[True]
    called = [job for job in publish["jobs"].values() if job.get("uses") == "./.github/workflows/ci.yml"]

    assert "workflow_call" in triggers
    assert len(called) == 1
    checks = next(name for name, job in publish["jobs"].items() if job is called[0])
    assert checks in publish["jobs"]["build"]["needs"]
    build_steps = " ".join(str(step.get("run", "")) for step in publish["jobs"]["build"]["steps"])
    assert "make test" not in build_steps, "the release tests through the CI workflow, not a copy of it"


def test_ci_needs_no_redis_service_or_package() -> None:
    test_job = workflow("ci.yml")["jobs"]["test"]

    assert "services" not in test_job
    assert not any("redis" in str(step.get("run", "")) for step in test_job["steps"])
    assert any(step.get("run") == "make test" for step in test_job["steps"])
