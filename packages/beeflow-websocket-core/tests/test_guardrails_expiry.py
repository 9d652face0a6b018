"""Credentials that expire: the notice, the in-band refresh, and the close of a connection not refreshed."""

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest

from beeflow_websocket.core.action_registry import UserId
from beeflow_websocket.core.guardrails.expiry import (
    EXPIRING_EVENT,
    TOKEN_EXPIRED_CLOSE_CODE,
    Expiry,
    expiry_timestamp,
)
from beeflow_websocket.core.settings import DispatcherSettings
from beeflow_websocket.core.testing import ActionTestClient, Frame

pytestmark = pytest.mark.anyio

QUICK = DispatcherSettings(token_expiry_notice=0.2, token_expiry_grace=0.1)
TOKENS: dict[str, tuple[UserId, float]] = {}


async def resolve(token: str) -> tuple[UserId, Expiry] | None:
    """The application's check of a fresh token: ``user-<id>/<seconds it lasts>``."""
    user, _, lasts = token.partition("/")
    if not user.startswith("user-"):
        return None
    return int(user[5:]), time.time() + float(lasts)


async def closed(client: ActionTestClient, within: float) -> tuple[int, str] | None:
    """How the server closed ``client`` within ``within`` seconds; ``None`` when it kept it open."""
    try:
        async with asyncio.timeout(within):
            return await client.closed_by_server()
    except TimeoutError:
        return None


def expiring(client: ActionTestClient) -> list[Frame]:
    return [frame for frame in client.frames if frame.get("event") == EXPIRING_EVENT]


async def test_a_connection_is_told_before_its_credentials_expire_and_closed_4440_after_the_grace() -> None:
    settings = DispatcherSettings(token_expiry_notice=0.3, token_expiry_grace=0.3)
    expires_at = time.time() + 0.6
    client = ActionTestClient(settings=settings, expires_at=expires_at)
    await client.open()

    assert expiring(client) == []  # not before the notice is due
    async with asyncio.timeout(5):
        while not expiring(client):  # noqa: ASYNC110 - the notice comes from a timer
            await asyncio.sleep(0.01)
    told = time.time()
    [notice] = expiring(client)
    assert told >= expires_at - 0.3
    payload = notice["payload"]
    assert isinstance(payload, dict)
    assert 0 < float(str(payload["expires_in"])) <= 0.3
    assert (notice["recipient"], notice["recipient_id"], "req_id" in notice) == (
        "websocket",
        client.websocket_id,
        False,
    )
    assert client.closed_with is None
    assert await closed(client, 5) == (TOKEN_EXPIRED_CLOSE_CODE, "token expired")
    assert time.time() >= expires_at + 0.3  # only once the grace is over


async def test_a_refresh_for_the_same_user_moves_the_expiry() -> None:
    client = ActionTestClient(settings=QUICK, expires_at=time.time() + 0.3, refresh=resolve, user_id=4)
    await client.open()

    outcome = await client.refresh("user-4/60")

    assert outcome.complete
    assert await closed(client, 0.6) is None  # past the old expiry and its grace: still open
    assert (await client.call("health")).problem is None


async def test_a_refresh_that_names_another_user_or_nobody_is_refused_and_changes_nothing() -> None:
    client = ActionTestClient(settings=QUICK, expires_at=time.time() + 0.3, refresh=resolve, user_id=4)
    await client.open()

    other, nobody = await client.refresh("user-5/60"), await client.refresh("bogus")

    for outcome, detail in ((other, "another user"), (nobody, "not accepted")):
        problem = outcome.problem or {}
        assert (problem["status"], problem["code"], problem["final"]) == (401, "token_refused", True)
        assert detail in str(problem["detail"])
    assert await closed(client, 1.0) == (TOKEN_EXPIRED_CLOSE_CODE, "token expired")


async def test_without_a_refresh_hook_a_refresh_is_refused() -> None:
    client = ActionTestClient()

    problem = (await client.refresh("user-1/60")).problem or {}

    assert problem["code"] == "token_refused"
    assert "cannot be refreshed" in str(problem["detail"])


async def test_a_failing_hook_refuses_the_token_and_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    async def broken(token: str) -> tuple[UserId, Expiry] | None:
        raise ConnectionError("the identity provider is down")

    client = ActionTestClient(refresh=broken)

    problem = (await client.refresh("user-1/60")).problem or {}

    assert (problem["code"], problem["detail"]) == ("token_refused", "The token could not be checked.")
    assert "the refresh hook failed" in caplog.text


async def test_a_refresh_can_lift_the_expiry_and_a_connection_without_one_can_gain_it() -> None:
    async def forever(token: str) -> tuple[UserId, Expiry] | None:
        return 1, None if token == "forever" else time.time() + 0.1

    lifted = ActionTestClient(settings=QUICK, expires_at=time.time() + 0.2, refresh=forever)
    gained = ActionTestClient(settings=QUICK, refresh=forever)

    assert (await lifted.refresh("forever")).complete
    assert (await gained.refresh("briefly")).complete
    assert await closed(gained, 1.0) == (TOKEN_EXPIRED_CLOSE_CODE, "token expired")
    assert lifted.closed_with is None


async def test_a_protocol_0_client_is_not_told_but_is_closed_all_the_same() -> None:
    client = ActionTestClient(settings=QUICK, expires_at=time.time() + 0.1, protocol_version=0)
    await client.open()

    assert await closed(client, 1.0) == (TOKEN_EXPIRED_CLOSE_CODE, "token expired")
    assert expiring(client) == []


def test_an_expiry_is_an_aware_datetime_or_seconds_since_the_epoch() -> None:
    moment = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)

    assert expiry_timestamp(moment) == moment.timestamp()
    assert expiry_timestamp(moment.timestamp()) == moment.timestamp()
    assert expiry_timestamp(None) is None
    with pytest.raises(ValueError, match="aware datetime"):
        expiry_timestamp(datetime(2026, 12, 4, 12, 0))
    with pytest.raises(TypeError, match="seconds since the epoch"):
        expiry_timestamp("tomorrow")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="aware datetime"):
        ActionTestClient(expires_at=datetime.now() + timedelta(hours=1))


def test_the_notice_and_grace_must_not_be_negative() -> None:
    with pytest.raises(ValueError, match="token_expiry_grace must be a number of seconds"):
        DispatcherSettings(token_expiry_grace=-1)
