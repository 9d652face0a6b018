"""The contract on every adapter's real server, written by the commands, valid for AsyncAPI's tools.

The AsyncAPI documents are validated by ``asyncapi/validate.mjs``: against the official AsyncAPI
3.0.0 JSON Schema (``@asyncapi/specs``) and with ``@asyncapi/parser``. The page is opened in Debian's
Chromium. Needs Node.js, Chromium and ``make browser`` (``npm ci`` in ``browser/`` and ``asyncapi/``);
the tests fail, never skip, when one of them is missing.
"""

import json
import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from serving import EXAMPLES, SITES, Server

pytestmark = pytest.mark.integration

HERE = Path(__file__).resolve().parent
VALIDATOR = HERE / "asyncapi"
BROWSER = HERE / "browser"


def fetch(server: Server, path: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}{path}", timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read()


def node(script: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    executable = shutil.which("node")
    if executable is None:
        pytest.fail("Node.js is not installed, and the contract tests need it")
    if not (script.parent / "node_modules").is_dir():
        pytest.fail(f"the npm packages of {script.parent.name}/ are not installed: run `make browser`")
    return subprocess.run(
        [executable, str(script), *arguments], capture_output=True, text=True, timeout=120, check=False
    )


def assert_valid(document: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "asyncapi.json"
    path.write_text(json.dumps(document))
    result = node(VALIDATOR / "validate.mjs", str(path))
    report = json.loads(result.stdout)
    assert report["schemaErrors"] == [], report
    assert report["parserErrors"] == [], report
    assert result.returncode == 0, result.stderr


def without_servers(document: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in document.items() if key != "servers"}


@pytest.fixture(scope="module")
def served(sites: dict[str, Server]) -> dict[str, dict[str, Any]]:
    """Each adapter's served document."""
    documents = {}
    for name, server in sites.items():
        status, kind, body = fetch(server, "/asyncapi.json")
        assert (status, kind) == (200, "application/json"), (name, body[:200])
        documents[name] = json.loads(body)
    return documents


def test_every_adapter_serves_the_same_document_with_its_own_host(
    sites: dict[str, Server], served: dict[str, dict[str, Any]]
) -> None:
    for name, document in served.items():
        assert document["servers"]["production"] == {
            "host": f"127.0.0.1:{sites[name].port}",
            "protocol": "ws",
            "security": [{"$ref": "#/components/securitySchemes/accessToken"}],
        }, name
    reference = without_servers(served["fastapi"])
    assert without_servers(served["django"]) == reference
    assert without_servers(served["flask"]) == reference
    assert reference["info"]["title"] == "Test site"
    assert {"countdown", "stream", "slow", "beeflow.cancel"} <= set(reference["operations"])
    assert reference["operations"]["slow"]["x-beeflow-stream"]["timeout_seconds"] == 0.05


def test_every_adapter_serves_the_page_and_its_files_and_nothing_else_under_the_path(
    sites: dict[str, Server],
) -> None:
    for name, server in sites.items():
        status, kind, page = fetch(server, "/asyncapi")
        assert (status, kind.split(";")[0]) == (200, "text/html"), name
        assert b'schemaUrl="asyncapi.json"' in page, name
        status, kind, script = fetch(server, "/asyncapi/assets/asyncapi-web-component.js")
        assert (status, kind.split(";")[0], len(script) > 1_000_000) == (200, "text/javascript", True), name
        assert fetch(server, "/asyncapi/assets/MANIFEST.json")[0] == 404, name


def test_the_served_document_is_valid_asyncapi(served: dict[str, dict[str, Any]], tmp_path: Path) -> None:
    assert_valid(served["fastapi"], tmp_path)


def test_the_demo_s_document_written_by_the_command_is_valid(tmp_path: Path) -> None:
    output = tmp_path / "demo.json"
    command = [
        sys.executable,
        "-m",
        "beeflow_websocket.core.asyncapi_command",
        "demo.app:app",
        "-o",
        str(output),
    ]
    subprocess.run(command, cwd=EXAMPLES, check=True, timeout=60)

    document = json.loads(output.read_text())
    assert {"countdown", "room.say", "whoami"} <= set(document["operations"])
    assert_valid(document, tmp_path)


def test_the_test_application_s_document_is_valid(tmp_path: Path) -> None:
    script = (
        "import json, sys\n"
        "from beeflow_websocket.core.asyncapi import asyncapi_document\n"
        "from contract_app import define\n"
        "define()\n"
        "json.dump(asyncapi_document(), sys.stdout)\n"
    )
    testkit = HERE.parent / "testkit"
    environment = os.environ | {"PYTHONPATH": str(testkit)}
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=environment,
        check=True,
        timeout=60,
    )
    document = json.loads(result.stdout)

    assert {"order.place", "shop/echo".replace("/", "_"), "shop.anything"} <= set(document["operations"])
    assert_valid(document, tmp_path)


def test_the_commands_write_what_the_servers_serve(served: dict[str, dict[str, Any]], tmp_path: Path) -> None:
    environment = os.environ | {
        "PYTHONPATH": str(SITES),
        "DJANGO_SETTINGS_MODULE": "djangosite.settings",
        "DJANGOSITE_DB": str(tmp_path / "unused.sqlite3"),  # the command reads no table
    }
    written = {}
    for name, command in {
        "flask": [sys.executable, "-m", "beeflow_websocket.core.asyncapi_command", "flasksite.main:app"],
        "django": [sys.executable, "-m", "django", "beeflow_asyncapi"],
    }.items():
        output = tmp_path / f"{name}.json"
        subprocess.run([*command, "-o", str(output)], cwd=SITES, env=environment, check=True, timeout=60)
        written[name] = json.loads(output.read_text())

    assert written["flask"] == without_servers(served["flask"])
    assert written["django"] == without_servers(served["django"])


def test_the_page_renders_the_contract_in_a_browser_from_the_application_alone(
    sites: dict[str, Server],
) -> None:
    if shutil.which("chromium") is None:
        pytest.fail("chromium is not installed: apt-get install chromium (.ci/run installs it)")
    server = sites["flask"]

    result = node(BROWSER / "contract.mjs", f"http://127.0.0.1:{server.port}/asyncapi")

    shown = json.loads(result.stdout)
    assert shown["ok"], result.stderr
    for operation in ("countdown", "stream", "beeflow.cancel", "push.group"):
        assert operation in shown["text"]
    origins = {request.split("/")[2] for request in shown["requests"]}
    assert origins == {f"127.0.0.1:{server.port}"}  # no CDN
