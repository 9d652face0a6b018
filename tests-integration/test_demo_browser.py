"""The demo page in a real browser: Debian's Chromium, driven by playwright-core (browser/demo.mjs).

Needs Node.js, Chromium (``apt-get install chromium``) and ``make browser`` (``npm ci`` in
tests-integration/browser); the test fails, never skips, when one of them is missing.
"""

import json
import os
import shutil
import struct
import subprocess
from pathlib import Path
from typing import Any

import pytest

from serving import demo_command, free_port, start_server

pytestmark = pytest.mark.integration

BROWSER = Path(__file__).resolve().parent / "browser"
TABS = ("alice", "alice2", "bob")


def executable(name: str, install: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed, and the browser test needs it: {install}")
    return found


@pytest.fixture(scope="module")
def shown(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Run browser/demo.mjs against the demo on a free port; return what it printed."""
    chromium = executable("chromium", "apt-get install chromium (.ci/run installs it)")
    node = executable("node", "install Node.js 18 or newer")
    if not (BROWSER / "node_modules" / "playwright-core").is_dir():
        pytest.fail(
            "playwright-core is not installed: run `make browser` (npm ci in tests-integration/browser)"
        )
    workdir = tmp_path_factory.mktemp("browser")
    port = free_port()
    server = start_server("demo", demo_command(port), workdir / "server.log", port)
    try:
        completed = subprocess.run(
            [node, "demo.mjs", f"http://127.0.0.1:{port}/", str(workdir)],
            cwd=BROWSER,
            env=os.environ | {"CHROMIUM": chromium},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        server.stop()
    report = (
        f"node exited with {completed.returncode}\n{completed.stdout}\n{completed.stderr}\n{server.output()}"
    )
    if completed.returncode != 0:
        pytest.fail(report)
    result: dict[str, Any] = json.loads(completed.stdout)
    result["screenshots"] = workdir
    return result


def rows(shown: dict[str, Any], tab: str, name: str) -> list[dict[str, Any]]:
    """The rows of one tab's frame log named ``name``."""
    return [row for row in shown["tabs"][tab]["rows"] if row["name"] == name]


def summary(shown: dict[str, Any], tab: str, name: str) -> list[tuple[str, str, str]]:
    return [(row["to"], row["req"], row["payload"]) for row in rows(shown, tab, name)]


def test_a_refused_token_is_explained_in_words(shown: dict[str, Any]) -> None:
    assert shown["refused"].startswith(
        "The server refused the connection: the access token was not accepted."
    )
    assert shown["refused"].endswith("(close code 1006)")
    refused = [row for row in shown["tabs"]["bob"]["rows"] if "refused" in row["kind"]]
    assert [row["name"] for row in refused] == [shown["refused"]]


def test_the_identity_line_names_user_and_rooms(shown: dict[str, Any]) -> None:
    identities = {tab: shown["tabs"][tab]["identity"] for tab in TABS}

    assert identities["alice"].startswith("user 1 · connection ")
    assert identities["alice"].endswith(" · rooms: lobby")
    assert identities["alice2"].endswith(" · rooms: none")
    assert identities["bob"].startswith("user 2 · ")


def test_one_click_streams_the_countdown(shown: dict[str, Any]) -> None:
    ticks = rows(shown, "alice", "countdown.tick")

    assert [(row["to"], row["payload"]) for row in ticks] == [
        ("websocket (this tab)", f'{{"remaining":{n}}}') for n in (3, 2, 1, 0)
    ]
    assert len({row["req"] for row in ticks}) == 1


def test_the_room_message_reaches_both_tabs_in_the_room(shown: dict[str, Any]) -> None:
    message = ("group room:lobby", '{"room":"lobby","user_id":1,"text":"hello room"}')

    assert [(to, payload) for to, _, payload in summary(shown, "alice", "room.message")] == [message]
    assert [(to, payload) for to, _, payload in summary(shown, "bob", "room.message")] == [message]
    assert rows(shown, "alice2", "room.message") == []


def test_the_user_message_reaches_both_of_alices_tabs(shown: dict[str, Any]) -> None:
    message = ("user 1", '{"from_user_id":1,"text":"to all my tabs"}')

    assert [(to, payload) for to, _, payload in summary(shown, "alice", "user.message")] == [message]
    assert [(to, payload) for to, _, payload in summary(shown, "alice2", "user.message")] == [message]
    assert rows(shown, "bob", "user.message") == []


def test_the_http_push_arrives(shown: dict[str, Any]) -> None:
    to_room = ("group room:lobby", "push", '{"text":"pushed to the room","via":"POST /rooms/lobby/notices"}')
    to_alice = ("user 1", "push", '{"text":"pushed to my tabs","via":"POST /users/1/notices"}')

    assert summary(shown, "alice", "notice") == [to_room, to_alice]
    assert summary(shown, "alice2", "notice") == [to_alice]
    assert summary(shown, "bob", "notice") == [to_room]
    assert [row["name"] for row in shown["tabs"]["bob"]["rows"] if row["kind"] == "push"] == [
        "POST /rooms/lobby/notices → 204"
    ]


def test_the_422_shows_each_wrong_field(shown: dict[str, Any]) -> None:
    (problem,) = rows(shown, "alice", "422 invalid_action_payload")

    assert problem["kind"] == "problem"
    assert problem["fields"] == [
        "payload.room: String should match pattern '^[a-z0-9-]{1,30}$'",
        "payload.text: String should have at least 1 character",
    ]
    assert shown["problemVisible"] is True


def test_a_screenshot_of_each_tab(shown: dict[str, Any]) -> None:
    for tab in TABS:
        png = (shown["screenshots"] / f"{tab}.png").read_bytes()
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        assert struct.unpack(">II", png[16:24]) == (1360, 900)
        assert len(png) > 30_000, f"{tab}.png is suspiciously small for a page full of rows"
