"""The demo page in a real browser: Debian's Chromium, driven by playwright-core (browser/demo.mjs).

The page talks through the TypeScript client, built from the repository, so this is also the
client's proof in a browser: streams, a cancel, pushes, two tabs, and a server restart survived.
Needs Node.js, Chromium (``apt-get install chromium``), ``make browser`` (``npm ci`` in
tests-integration/browser) and ``make typescript``; the test fails, never skips, when one of them is
missing.
"""

import json
import os
import shutil
import struct
import subprocess
import zlib
from pathlib import Path
from typing import Any

import pytest

from serving import demo_command, free_port, start_server

pytestmark = pytest.mark.integration

BROWSER = Path(__file__).resolve().parent / "browser"
CLIENT = Path(__file__).resolve().parent.parent / "clients" / "typescript" / "dist"
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
    if not (CLIENT / "index.js").is_file():
        pytest.fail("the TypeScript client is not built: run `make typescript`")
    workdir = tmp_path_factory.mktemp("browser")
    port = free_port()
    servers = [start_server("demo", demo_command(port), workdir / "server.log", port)]
    lines: list[str] = []
    stderr = ""
    try:
        with subprocess.Popen(
            [node, "demo.mjs", f"http://127.0.0.1:{port}/", str(workdir)],
            cwd=BROWSER,
            env=os.environ | {"CHROMIUM": chromium},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ) as driver:
            assert driver.stdin is not None
            assert driver.stdout is not None
            # Every step of demo.mjs is bounded (10 s), so each line comes, or the process ends.
            while line := driver.stdout.readline():
                lines.append(line)
                if line.strip() == "RESTART":
                    servers[-1].stop()
                    servers.append(start_server("demo", demo_command(port), workdir / "server-2.log", port))
                    driver.stdin.write("restarted\n")
                    driver.stdin.flush()
            stderr = driver.stderr.read() if driver.stderr else ""
    finally:
        for server in servers:
            server.stop()
    logs = "\n".join(server.output() for server in servers)
    if driver.returncode != 0:
        pytest.fail(f"node exited with {driver.returncode}\n{''.join(lines)}\n{stderr}\n{logs}")
    result: dict[str, Any] = json.loads(lines[-1])
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
    assert shown["refused"].endswith("asking for the token again each time.")
    refused = [row for row in shown["tabs"]["bob"]["rows"] if "refused" in row["kind"]]
    assert [row["name"] for row in refused] == [shown["refused"]]


def test_the_identity_line_names_user_and_rooms(shown: dict[str, Any]) -> None:
    identities = shown["identities"]  # before the server restarted

    assert identities["alice"].startswith("user 1 · connection ")
    assert identities["alice"].endswith(" · rooms: lobby")
    assert identities["alice2"].endswith(" · rooms: none")
    assert identities["bob"].startswith("user 2 · ")


def test_one_click_streams_the_countdown(shown: dict[str, Any]) -> None:
    first = rows(shown, "alice", "countdown.tick")[0]["req"]
    ticks = [row for row in rows(shown, "alice", "countdown.tick") if row["req"] == first]

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


def pixels(png: bytes) -> list[tuple[int, ...]]:
    """The RGB(A) pixels of a non-interlaced 8-bit PNG, as Chromium writes them (no imaging library)."""
    width, height, depth, colour = struct.unpack(">IIBB", png[16:26])
    assert (depth, colour) in {(8, 2), (8, 6)}, "an 8-bit RGB or RGBA PNG"
    channels = 3 if colour == 2 else 4
    chunks, position = b"", 8
    while position < len(png):
        (length,) = struct.unpack(">I", png[position : position + 4])
        if png[position + 4 : position + 8] == b"IDAT":
            chunks += png[position + 8 : position + 8 + length]
        position += 12 + length
    raw, stride = zlib.decompress(chunks), width * channels
    rows: list[bytearray] = []
    previous = bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for x in range(stride):
            left = line[x - channels] if x >= channels else 0
            up, corner = previous[x], previous[x - channels] if x >= channels else 0
            if kind == 1:
                line[x] = (line[x] + left) & 0xFF
            elif kind == 2:
                line[x] = (line[x] + up) & 0xFF
            elif kind == 3:
                line[x] = (line[x] + (left + up) // 2) & 0xFF
            elif kind == 4:
                guess = left + up - corner
                nearest = min(
                    (abs(guess - left), 0, left), (abs(guess - up), 1, up), (abs(guess - corner), 2, corner)
                )
                line[x] = (line[x] + nearest[2]) & 0xFF
        rows.append(line)
        previous = line
    return [tuple(line[x : x + 3]) for line in rows for x in range(0, stride, channels)]


def test_the_screenshot_shows_each_tab_open_again_after_the_restart(shown: dict[str, Any]) -> None:
    # The open status badge is drawn in #d6eedd; a closed or reconnecting one is not.
    for tab in TABS:
        badge = pixels((shown["screenshots"] / f"{tab}-status.png").read_bytes())
        share = sum(pixel == (0xD6, 0xEE, 0xDD) for pixel in badge) / len(badge)
        assert share > 0.5, f"{tab}: the status badge is not the open one ({share:.0%} of its pixels)"


def test_a_screenshot_of_each_tab(shown: dict[str, Any]) -> None:
    for tab in TABS:
        png = (shown["screenshots"] / f"{tab}.png").read_bytes()
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        assert struct.unpack(">II", png[16:24]) == (1360, 900)
        assert len(png) > 30_000, f"{tab}.png is suspiciously small for a page full of rows"


def test_a_cancel_stops_the_stream_on_the_server(shown: dict[str, Any]) -> None:
    (cancelled,) = rows(shown, "alice", "cancelled")

    assert cancelled["payload"] == "beeflow.cancel sent: the server stopped the action"
    assert 2 <= shown["ticksAtCancel"] <= 3
    assert shown["ticksAfterCancel"] == shown["ticksAtCancel"]


def test_every_tab_survives_a_server_restart(shown: dict[str, Any]) -> None:
    statuses = shown["statuses"]

    assert statuses[:3] == ["closed", "connecting", "open"]
    # A new connection starts outside the rooms the old one had joined (resume is not there yet).
    assert shown["tabs"]["alice"]["identity"].endswith(" · rooms: none")
    assert "reconnecting" in statuses[3:]
    assert statuses[-1] == "open"
    assert [row["kind"] for row in rows(shown, "bob", "health")] == ["sent", "event"]
    lost = [row["name"] for row in shown["tabs"]["alice"]["rows"] if row["kind"] == "conn"]
    assert any(name.startswith("The connection was lost (close code") for name in lost)
