"""The Django adapter under daphne: both authentication paths, and nothing lost under load."""

import json
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Origin

from serving import Server, django_command, free_port, prepare_django_site, start_server
from wsclient import ORIGIN, connected, envelope, request

pytestmark = [pytest.mark.anyio, pytest.mark.integration]


@pytest.fixture(scope="module")
def daphne(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("daphne")
    port = free_port()
    server = start_server(
        "daphne",
        django_command(port),
        workdir / "server.log",
        port,
        prepare_django_site(workdir / "db.sqlite3"),
    )
    yield server
    server.stop()


async def whoami(ws: ClientConnection) -> dict[str, Any]:
    [identity] = await request(ws, "whoami")
    payload: dict[str, Any] = identity["payload"]
    return payload


def session_cookie(server: Server, username: str, password: str) -> str:
    data = urllib.parse.urlencode({"username": username, "password": password}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{server.port}/login/", data=data, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
        assert response.status == 204
        cookie = response.headers["Set-Cookie"]
    return str(cookie.split(";")[0])


async def test_a_session_cookie_of_a_real_user_at_a_custom_path(daphne: Server) -> None:
    cookie = session_cookie(daphne, "user3", "pw")

    async with connected(daphne.url("/api/ws/"), user_id=None, additional_headers={"Cookie": cookie}) as ws:
        identity = await whoami(ws)
        assert ws.subprotocol is None

    assert identity["user_id"] == "3"
    assert identity["websocket_id"].startswith("specific.")


async def test_no_session_is_refused(daphne: Server) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with connected(daphne.url("/api/ws/"), user_id=None):
            pass

    assert refused.value.response.status_code == 403


@pytest.mark.parametrize("path", ["/ws/", "/async-token/ws/"], ids=["sync-resolver", "async-resolver"])
async def test_an_access_token_selects_only_the_marker(daphne: Server, path: str) -> None:
    async with connected(daphne.url(path), user_id=4) as ws:
        identity = await whoami(ws)
        assert ws.subprotocol == "access-token"
        assert ws.response is not None
        assert ws.response.headers["Sec-WebSocket-Protocol"] == "access-token"

    assert identity["user_id"] == "4"
    assert "user-4" not in daphne.output()


@pytest.mark.parametrize("path", ["/ws/", "/async-token/ws/"], ids=["sync-resolver", "async-resolver"])
@pytest.mark.parametrize(
    "subprotocols",
    [["access-token", "user-999"], ["access-token", "forged"], None],
    ids=["unknown-user", "bad-token", "no-token"],
)
async def test_a_missing_or_bad_token_is_refused(
    daphne: Server, path: str, subprotocols: list[str] | None
) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with connected(daphne.url(path), user_id=None, subprotocols=subprotocols):
            pass

    assert refused.value.response.status_code == 403


async def test_a_foreign_origin_is_refused(daphne: Server) -> None:
    with pytest.raises(InvalidStatus):
        async with connected(daphne.url(), origin="https://evil.example"):
            pass


async def test_nothing_is_lost_when_a_connection_pipelines_many_requests(daphne: Server) -> None:
    requests = [envelope("countdown", {"from": 3}) for _ in range(100)]
    async with connected(daphne.url()) as ws:
        for message in requests:
            await ws.send(json.dumps(message))
        frames = [json.loads(await ws.recv()) for _ in range(300)]

    assert [frame["seq"] for frame in frames] == list(range(1, 301))
    assert [(frame["req_id"], frame["payload"]["n"]) for frame in frames] == [
        (message["req_id"], n) for message in requests for n in (3, 2, 1)
    ]


async def test_at_its_default_limit_daphne_drops_the_connection_of_an_oversized_frame(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    workdir = tmp_path_factory.mktemp("daphne-default-limit")
    port = free_port()
    command = django_command(port, max_message_size=None)
    server = start_server(
        "daphne-default", command, workdir / "server.log", port, prepare_django_site(workdir / "db.sqlite3")
    )
    try:
        async with connected(server.url(), max_size=None) as ws:

            async def send_then_read() -> None:
                # Daphne may reset the connection while the frame is still being sent, or after.
                await ws.send('{"pad": "' + "x" * (1024 * 1024) + '"}')
                await ws.recv()

            with pytest.raises(ConnectionClosed) as closed:
                await send_then_read()
    finally:
        server.stop()

    # Daphne fails the connection without a close frame (1006) before the adapter sees the frame;
    # the docs say so, and the test sites raise daphne's limit above the adapter's.
    assert closed.value.rcvd is None
    assert "Traceback" not in server.output()


@pytest.mark.parametrize("order", ["session-outer", "token-outer"])
@pytest.mark.parametrize(
    ("cookie_user", "token_user", "expected"),
    [("user3", None, 3), (None, 4, 4), ("user3", 4, 4), (None, None, None)],
    ids=["cookie-only", "token-only", "both", "neither"],
)
async def test_stacked_middlewares_take_a_session_cookie_or_a_token(
    daphne: Server, order: str, cookie_user: str | None, token_user: int | None, expected: int | None
) -> None:
    headers = {"Cookie": session_cookie(daphne, cookie_user, "pw")} if cookie_user else {}
    subprotocols = ["access-token", f"user-{token_user}"] if token_user else None
    url = daphne.url(f"/{order}/ws/")

    if expected is None:
        with pytest.raises(InvalidStatus) as refused:
            await connect(url, origin=Origin(ORIGIN), additional_headers=headers, subprotocols=subprotocols)  # type: ignore[arg-type]
        assert refused.value.response.status_code == 403
        return
    async with connected(url, user_id=token_user, additional_headers=headers) as ws:
        identity = await whoami(ws)

    assert identity["user_id"] == str(expected)


@pytest.fixture(scope="module")
def minimal_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The seed's minimal site: channels, the adapter and the project's app; no auth app, no database."""
    workdir = tmp_path_factory.mktemp("minimal")
    port = free_port()
    command = [*django_command(port)[:-1], "minimalsite.asgi:application"]
    env = {"DJANGO_SETTINGS_MODULE": "minimalsite.settings"}
    server = start_server("minimal", command, workdir / "server.log", port, env)
    yield server
    server.stop()


async def test_a_site_without_the_auth_app_serves_a_token_user(minimal_site: Server) -> None:
    async with connected(minimal_site.url(), token="minimal-token") as ws:
        [answer] = await request(ws, "health")

    assert (answer["event"], answer["payload"]) == ("health", {"status": "ok"})
    assert "RuntimeError" not in minimal_site.output()


@pytest.mark.parametrize(
    "subprotocols", [None, ["access-token", "forged"]], ids=["no-token", "unknown-token"]
)
async def test_a_site_without_the_auth_app_refuses_anyone_else(
    minimal_site: Server, subprotocols: list[str] | None
) -> None:
    with pytest.raises(InvalidStatus) as refused:
        await connect(minimal_site.url(), origin=Origin(ORIGIN), subprotocols=subprotocols)  # type: ignore[arg-type]

    assert refused.value.response.status_code == 403
    assert "Traceback" not in minimal_site.output()
