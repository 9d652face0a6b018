"""Rate limits on a connection's requests: 429 with when to retry, per connection, per user, per action."""

import asyncio
from collections.abc import AsyncIterator

import pytest

from beeflow_websocket.core.action_registry import Action, ActionContext
from beeflow_websocket.core.delivery.local import LocalConnections
from beeflow_websocket.core.event_registry import Event
from beeflow_websocket.core.guardrails.limiter import RATE_LIMITED_CLOSE_CODE, RequestLimiter
from beeflow_websocket.core.guardrails.rate_limits import RateLimit
from beeflow_websocket.core.payloads import ActionMessage
from beeflow_websocket.core.settings import DispatcherSettings
from beeflow_websocket.core.testing import ActionTestClient, Frame, Outcome

pytestmark = pytest.mark.anyio


class Found(Event, name="limits.found"):
    pass


@pytest.fixture
def search() -> None:
    """Registers an action limited on its own (for this test only: any such action gives every
    connection of the process a limiter)."""

    class Search(Action, name="limits.search", rate_limit="2/min", user_rate_limit="3/min"):
        """Two per connection and three per user a minute."""

        async def execute(self, message: ActionMessage, context: ActionContext) -> AsyncIterator[Found]:
            yield Found(
                recipient="websocket", recipient_id=context.websocket_id, req_id=message.req_id, payload={}
            )


def codes(outcomes: list[Outcome]) -> list[str]:
    return [str(outcome.problem["code"]) if outcome.problem else "ok" for outcome in outcomes]


async def calls(client: ActionTestClient, count: int, action: str = "health") -> list[Outcome]:
    async with asyncio.timeout(5):
        return [await client.call(action) for _ in range(count)]


async def test_past_the_connection_s_limit_a_request_is_answered_429_with_retry_after_and_not_run() -> None:
    client = ActionTestClient(settings=DispatcherSettings(rate_limit="3/min", rate_limit_budget=None))

    outcomes = await calls(client, 5)

    assert codes(outcomes) == ["ok", "ok", "ok", "rate_limited", "rate_limited"]
    problem: Frame = outcomes[3].problem or {}
    assert problem["status"] == 429
    assert problem["title"] == "Too many requests"
    assert problem["limit"] == "3/60s"
    assert problem["scope"] == "connection"
    assert 19.9 < float(str(problem["retry_after"])) <= 20.0  # one token every 20 s
    assert outcomes[3].frames == (problem,)  # refused: nothing of the action ran
    assert problem["final"] is True


async def test_the_limit_is_per_connection() -> None:
    settings = DispatcherSettings(rate_limit="1/min", rate_limit_budget=None)
    connections = LocalConnections()
    first, second = (ActionTestClient(settings=settings, connections=connections) for _ in range(2))

    assert codes(await calls(first, 2)) == ["ok", "rate_limited"]
    assert codes(await calls(second, 1)) == ["ok"]


async def test_a_user_s_limit_counts_all_its_connections_and_names_its_scope() -> None:
    settings = DispatcherSettings(user_rate_limit="3/min", rate_limit_budget=None)
    connections = LocalConnections()
    first, second = (
        ActionTestClient(settings=settings, connections=connections, user_id=7) for _ in range(2)
    )
    other_user = ActionTestClient(settings=settings, connections=connections, user_id=8)

    assert codes(await calls(first, 2)) == ["ok", "ok"]
    refused = await calls(second, 2)
    assert codes(refused) == ["ok", "rate_limited"]
    assert (refused[1].problem or {})["scope"] == "user"
    assert codes(await calls(other_user, 1)) == ["ok"]


@pytest.mark.usefixtures("search")
async def test_an_action_s_own_limits_apply_on_top_of_the_settings() -> None:
    connections = LocalConnections()
    settings = DispatcherSettings(rate_limit="100/min", rate_limit_budget=None)
    first = ActionTestClient(settings=settings, connections=connections, user_id=9)
    second = ActionTestClient(settings=settings, connections=connections, user_id=9)

    assert codes(await calls(first, 3, "limits.search")) == ["ok", "ok", "rate_limited"]
    assert codes(await calls(first, 1)) == ["ok"]  # other actions are not held back by it
    # The user's three a minute: one is left for the second connection.
    assert codes(await calls(second, 2, "limits.search")) == ["ok", "rate_limited"]


async def test_a_request_refused_by_the_user_s_limit_takes_nothing_from_the_connection_s() -> None:
    connections = LocalConnections()
    settings = DispatcherSettings(rate_limit="2/min", user_rate_limit="1/min", rate_limit_budget=None)
    first = ActionTestClient(settings=settings, connections=connections, user_id=10)

    assert codes(await calls(first, 3)) == ["ok", "rate_limited", "rate_limited"]
    refused = await calls(first, 1)
    # The connection's bucket still has its second token: the user's limit is what refuses.
    assert (refused[0].problem or {})["scope"] == "user"


async def test_a_client_that_asks_on_past_its_refusal_budget_is_closed_with_4429() -> None:
    client = ActionTestClient(settings=DispatcherSettings(rate_limit="1/min", rate_limit_budget="3/min"))

    assert codes(await calls(client, 4)) == ["ok", "rate_limited", "rate_limited", "rate_limited"]
    assert client.closed_with is None
    await client.start("health")  # the fourth refusal

    async with asyncio.timeout(5):
        assert (await client.closed_by_server())[0] == RATE_LIMITED_CLOSE_CODE


async def test_control_frames_are_never_limited() -> None:
    client = ActionTestClient(settings=DispatcherSettings(rate_limit="1/min", rate_limit_budget=None))
    await calls(client, 1)

    async with asyncio.timeout(5):
        pings = [await client.ping() for _ in range(5)]

    assert all(outcome.problem is None for outcome in pings)


def test_a_connection_gets_a_limiter_only_when_a_limit_applies(request: pytest.FixtureRequest) -> None:
    assert not RequestLimiter.needed(DispatcherSettings())
    assert not ActionTestClient().dispatcher._limiter  # the request path is what it was without
    assert RequestLimiter.needed(DispatcherSettings(rate_limit=RateLimit(1, 1.0)))
    assert RequestLimiter.needed(DispatcherSettings(user_rate_limit="1/s"))

    request.getfixturevalue("search")  # an action with limits of its own
    assert RequestLimiter.needed(DispatcherSettings())


def test_limits_are_read_from_text_and_checked_where_they_are_given() -> None:
    assert DispatcherSettings(rate_limit="10/s").rate_limit == RateLimit(10, 1.0)
    assert DispatcherSettings().rate_limit_budget == RateLimit(60, 60.0)
    with pytest.raises(ValueError, match=r"^user_rate_limit: 'lots' is not a rate limit"):
        DispatcherSettings(user_rate_limit="lots")
    with pytest.raises(TypeError, match="Greedy: rate_limit: 'fast' is not a rate limit"):

        class Greedy(Action, name="limits.greedy", rate_limit="fast"):
            async def execute(self, message: ActionMessage, context: ActionContext) -> AsyncIterator[Found]:
                yield Found(recipient="websocket", recipient_id=context.websocket_id, payload={})
