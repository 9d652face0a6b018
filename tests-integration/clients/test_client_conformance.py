"""One conformance suite for both clients, against every adapter on its real server.

Each case runs for the Python and the TypeScript client (``driver``) and for Django on daphne,
FastAPI on uvicorn and Flask on gunicorn (``served``, or ``own_server`` for a case that restarts or
pauses its server). The clients are driven through the commands of DRIVER.md, so a case says what
a user of either client sees: the events of a request, its problem, a cancel that reaches the
server, a push, a reconnect with a fresh token, a refusal that does not loop, a heartbeat that
notices a paused server.
"""

import asyncio
from typing import Any

import pytest

from drivers import Driver
from serving import Server
from wsclient import ORIGIN

pytestmark = [pytest.mark.anyio, pytest.mark.integration]

FAST = {"backoff": {"initial": 0.05, "max": 0.5}, "connect_timeout": 3.0}


async def connect(driver: Driver, url: str, tokens: list[str | None] | None = None, **options: Any) -> None:
    settings = {"tokens": tokens or ["user-1"], "origin": ORIGIN, "heartbeat": None, **FAST, **options}
    assert (await driver.call("connect", url=url, **settings))["ok"]


async def opened(driver: Driver, url: str, tokens: list[str | None] | None = None, **options: Any) -> None:
    await connect(driver, url, tokens, **options)
    reached = await driver.call("wait_status", status="open", timeout=10)
    assert reached == {"ok": True, "status": "open"}


async def reconnected(driver: Driver) -> None:
    """The client noticed the connection go, and is open again."""
    async with asyncio.timeout(20):
        while True:
            state = await driver.call("state")
            if "reconnecting" in state["statuses"] and state["status"] == "open":
                return
            await asyncio.sleep(0.05)


def names_and_payloads(reply: dict[str, Any]) -> list[tuple[str, Any]]:
    return [(event["event"], event["payload"]) for event in reply["events"]]


def kick(server: Server, user_id: int, reason: str) -> None:
    """Disconnect every connection of ``user_id`` through the site's ``/kick/`` endpoint."""
    server.post("/kick/", {"user_id": user_id, "reason": reason})


FINALLY_RAN = "closed by its finally block"


async def finally_ran(server: Server, req_id: str) -> None:
    """The ``stream`` action's finally block ran for ``req_id``: the cancel reached the server."""
    async with asyncio.timeout(5):
        while f"stream {req_id} {FINALLY_RAN}" not in server.output():  # noqa: ASYNC110
            await asyncio.sleep(0.02)


async def test_a_request_resolves_with_its_events_when_its_terminal_frame_arrives(
    driver: Driver, served: Server
) -> None:
    await opened(driver, served.url())

    echoed = await driver.call("request", action="echo", payload={"text": "hi"})
    counted = await driver.call("request", action="countdown", payload={"from": 3})
    health = await driver.call("request", action="health", payload={})

    assert names_and_payloads(echoed) == [("echoed", {"text": "hi"})]
    assert names_and_payloads(counted) == [
        ("counted", {"n": 3}),
        ("counted", {"n": 2}),
        ("counted", {"n": 1}),
    ]
    assert [event["event"] for event in health["events"]] == ["health"]
    state = await driver.call("state")
    assert state["gaps"] == []
    assert state["statuses"] == ["connecting", "open"]


async def test_a_problem_rejects_the_request_with_its_code_status_and_errors(
    driver: Driver, served: Server
) -> None:
    await opened(driver, served.url())

    invalid = await driver.call("request", action="reserve", payload={"seat": "99Z", "passengers": 0})
    unknown = await driver.call("request", action="no-such-action", payload={})
    failed = await driver.call("request", action="fail", payload={})
    still = await driver.call("request", action="echo", payload={"after": "problems"})

    assert invalid["ok"] is False
    assert (invalid["problem"]["code"], invalid["problem"]["status"]) == ("invalid_action_payload", 422)
    assert {tuple(error["loc"]) for error in invalid["problem"]["errors"]} >= {
        ("payload", "seat"),
        ("payload", "passengers"),
    }
    assert (unknown["problem"]["code"], unknown["problem"]["status"]) == ("unknown_websocket_action", 400)
    assert (failed["problem"]["code"], failed["problem"]["status"]) == ("internal_error", 500)
    assert "secret" not in str(failed)
    assert names_and_payloads(still) == [("echoed", {"after": "problems"})]


async def test_a_stream_yields_every_event_in_order_and_ends(driver: Driver, served: Server) -> None:
    await opened(driver, served.url())

    streamed = await driver.call("stream", action="stream", payload={"count": 20, "interval": 0.001})

    assert streamed["ok"] is True
    assert [event["payload"]["n"] for event in streamed["events"]] == list(range(20))
    assert [event["seq"] for event in streamed["events"]] == sorted(
        event["seq"] for event in streamed["events"]
    )


async def test_leaving_a_stream_cancels_the_request_on_the_server(driver: Driver, served: Server) -> None:
    await opened(driver, served.url())

    left = await driver.call(
        "stream", action="stream", payload={"count": 50, "interval": 0.02}, break_after=5
    )

    assert left["ok"] is True
    assert [event["payload"]["n"] for event in left["events"]] == [0, 1, 2, 3, 4]
    await finally_ran(served, left["events"][0]["req_id"])
    after = await driver.call("request", action="echo", payload={"after": "cancel"})
    assert names_and_payloads(after) == [("echoed", {"after": "cancel"})]
    assert (await driver.call("state"))["gaps"] == []


async def test_an_aborted_request_is_cancelled_on_the_server(driver: Driver, served: Server) -> None:
    await opened(driver, served.url())
    streams_ended = served.output().count(FINALLY_RAN)

    aborted = await driver.call("abort", action="stream", payload={"count": 100, "interval": 0.02}, after=0.2)

    assert aborted == {"ok": False, "error": "aborted"}
    async with asyncio.timeout(5):
        while served.output().count(FINALLY_RAN) == streams_ended:  # noqa: ASYNC110
            await asyncio.sleep(0.02)
    after = await driver.call("request", action="echo", payload={"after": "abort"})
    assert names_and_payloads(after) == [("echoed", {"after": "abort"})]


async def test_timeouts_of_the_server_and_of_the_client(driver: Driver, served: Server) -> None:
    await opened(driver, served.url())
    streams_ended = served.output().count(FINALLY_RAN)

    server_side = await driver.call("request", action="slow", payload={})
    client_side = await driver.call(
        "request", action="stream", payload={"count": 100, "interval": 0.05}, timeout=0.3
    )

    assert (server_side["problem"]["code"], server_side["problem"]["status"]) == ("action_timeout", 504)
    assert client_side == {"ok": False, "error": "timeout"}
    async with asyncio.timeout(5):  # the client cancelled what it stopped waiting for
        while served.output().count(FINALLY_RAN) == streams_ended:  # noqa: ASYNC110
            await asyncio.sleep(0.02)
    after = await driver.call("request", action="echo", payload={"after": "timeouts"})
    assert names_and_payloads(after) == [("echoed", {"after": "timeouts"})]


async def test_pushed_events_reach_listeners_and_a_failing_listener_harms_no_one(
    driver: Driver, served: Server
) -> None:
    await opened(driver, served.url(), ["user-3"])
    assert (await driver.call("listen", event="said", throw_first=True))["ok"]

    await asyncio.to_thread(served.push, "user", "3", "first")
    await asyncio.to_thread(served.push, "user", "3", "second")

    async with asyncio.timeout(5):
        while len((await driver.call("received", event="said"))["events"]) < 2:  # noqa: ASYNC110
            await asyncio.sleep(0.02)
    said = await driver.call("received", event="said")
    assert [event["payload"] for event in said["events"]] == [{"text": "first"}, {"text": "second"}]
    assert all(event["req_id"] is None for event in said["events"])
    assert (await driver.call("state"))["status"] == "open"


async def test_after_a_restart_the_client_reconnects_with_a_fresh_token(
    driver: Driver, own_server: Any
) -> None:
    await opened(driver, own_server.url(), ["user-1", "user-2"])
    first = await driver.call("request", action="whoami", payload={})

    await asyncio.to_thread(own_server.restart)
    await reconnected(driver)
    second = await driver.call("request", action="whoami", payload={})

    assert first["events"][0]["payload"]["user_id"] == "1"
    assert second["events"][0]["payload"]["user_id"] == "2"
    state = await driver.call("state")
    assert state["token_calls"] >= 2
    assert state["statuses"][:3] == ["connecting", "open", "reconnecting"]
    assert state["statuses"][-1] == "open"


async def test_requests_made_while_offline_wait_and_go_once_it_is_back(
    driver: Driver, own_server: Any
) -> None:
    await opened(driver, own_server.url())
    await asyncio.to_thread(own_server.stop)
    assert (await driver.call("wait_status", status="reconnecting", timeout=10))["ok"]

    waiting = asyncio.create_task(driver.call("request", action="echo", payload={"queued": True}, timeout=20))
    await asyncio.sleep(0.3)
    await asyncio.to_thread(own_server.start)

    assert names_and_payloads(await waiting) == [("echoed", {"queued": True})]


async def test_a_request_in_flight_when_the_connection_goes_fails_as_lost(
    driver: Driver, own_server: Any
) -> None:
    await opened(driver, own_server.url())

    streaming = asyncio.create_task(
        driver.call("request", action="stream", payload={"count": 1000, "interval": 0.05}, timeout=20)
    )
    await asyncio.sleep(0.3)
    await asyncio.to_thread(own_server.stop)

    assert await streaming == {"ok": False, "error": "connection_lost"}


async def test_a_source_without_a_user_ends_the_client_instead_of_retrying(
    driver: Driver, served: Server
) -> None:
    await connect(driver, served.url(), [None])

    closed = await driver.call("wait_status", status="closed", timeout=5)
    await asyncio.sleep(0.5)  # time for attempts it must not make

    state = await driver.call("state")
    assert closed["ok"]
    assert state["token_calls"] == 1
    assert state["statuses"] == ["connecting", "closed"]
    refused = await driver.call("request", action="echo", payload={})
    assert refused == {"ok": False, "error": "closed"}


async def test_a_kicked_client_stops_and_does_not_reconnect(driver: Driver, served: Server) -> None:
    await opened(driver, served.url(), ["user-6"])
    # Served, not only open: Flask-Sock completes the handshake before the route joins the user's
    # group, and a kick reaches the connections in the group when it arrives.
    await driver.call("request", action="whoami", payload={})

    await asyncio.to_thread(kick, served, 6, "signed out everywhere")
    closed = await driver.call("wait_status", status="closed", timeout=5)
    await asyncio.sleep(0.5)  # time for attempts it must not make

    state = await driver.call("state")
    assert closed["ok"]
    assert state["close_code"] == 4409
    assert state["token_calls"] == 1
    assert state["statuses"] == ["connecting", "open", "closed"]
    assert await driver.call("request", action="echo", payload={}) == {"ok": False, "error": "closed"}


async def test_a_refused_handshake_is_retried_only_with_a_fresh_token(driver: Driver, served: Server) -> None:
    await connect(driver, served.url(), ["not-a-token", "not-a-token", "user-4"])

    assert (await driver.call("wait_status", status="open", timeout=10))["ok"]
    whoami = await driver.call("request", action="whoami", payload={})

    assert whoami["events"][0]["payload"]["user_id"] == "4"
    assert (await driver.call("state"))["token_calls"] == 3


async def test_the_heartbeat_notices_a_server_that_stopped_answering(driver: Driver, own_server: Any) -> None:
    await opened(driver, own_server.url(), heartbeat={"interval": 0.3, "timeout": 0.5})
    assert names_and_payloads(await driver.call("request", action="echo", payload={"n": 1})) == [
        ("echoed", {"n": 1})
    ]

    own_server.pause()
    try:
        noticed = await driver.call("wait_status", status="reconnecting", timeout=5)
    finally:
        own_server.resume()

    assert noticed["ok"]
    await reconnected(driver)
    assert names_and_payloads(await driver.call("request", action="echo", payload={"n": 2})) == [
        ("echoed", {"n": 2})
    ]


async def test_a_token_about_to_expire_is_renewed_in_band_and_the_connection_stays(
    driver: Driver, served: Server
) -> None:
    # The sites read user-<id>~<seconds> as a token that expires then; they warn 0.5 s before it
    # and close 0.5 s after it, so by 2 s an unrenewed connection would have gone.
    await opened(driver, served.url(), ["user-3~1", "user-3~60"])

    await asyncio.sleep(2.0)
    state = await driver.call("state")
    whoami = await driver.call("request", action="whoami", payload={})

    assert state["statuses"] == ["connecting", "open"]
    assert state["token_calls"] == 2
    assert state["close_code"] is None
    assert whoami["events"][0]["payload"]["user_id"] == "3"


async def test_a_renewal_refused_ends_in_4440_and_a_reconnect_with_a_fresh_token(
    driver: Driver, served: Server
) -> None:
    # The renewal names another user: refused; the connection closes once its token expired.
    await opened(driver, served.url(), ["user-3~1", "user-4~60", "user-5"])

    await reconnected(driver)
    state = await driver.call("state")
    whoami = await driver.call("request", action="whoami", payload={})

    assert state["close_code"] == 4440
    assert state["token_calls"] == 3
    assert whoami["events"][0]["payload"]["user_id"] == "5"


async def test_a_source_without_a_user_at_renewal_ends_the_client_after_the_server_s_close(
    driver: Driver, served: Server
) -> None:
    await opened(driver, served.url(), ["user-3~1", None])

    closed = await driver.call("wait_status", status="closed", timeout=10)
    state = await driver.call("state")

    assert closed["ok"]
    assert state["close_code"] == 4440  # the server's close, not the client's own
    assert state["statuses"] == ["connecting", "open", "reconnecting", "closed"]
