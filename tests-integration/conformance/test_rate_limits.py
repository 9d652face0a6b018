"""Rate limits on every adapter's real server: the same 429 frames, and 4429 past the refusal budget.

Each test connects as a user no other test asks ``limited`` for, so that user's buckets (kept by
the server for a minute) start full. The site's ``limited`` action allows three requests a minute
per connection and four per user.
"""

from typing import Any

import anyio
import pytest
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from serving import Server
from wsclient import connected, request

pytestmark = [pytest.mark.anyio, pytest.mark.integration]


async def ask(ws: ClientConnection, action: str = "limited") -> dict[str, Any]:
    [frame] = await request(ws, action)
    assert frame["final"] is True
    return frame


def outcome(frame: dict[str, Any]) -> str:
    return str(frame.get("code", frame.get("event")))


async def test_past_a_limit_a_request_is_refused_429_with_retry_after_and_the_connection_serves_on(
    served: Server,
) -> None:
    async with (
        connected(served.url(), user_id=8, v1=True) as first,
        connected(served.url(), user_id=8, v1=True) as second,
    ):
        frames = [await ask(first) for _ in range(4)]
        after = await ask(first, "health")
        users = [await ask(second) for _ in range(2)]

    assert [outcome(frame) for frame in frames] == ["echoed", "echoed", "echoed", "rate_limited"]
    refused = frames[3]
    assert (refused["status"], refused["title"], refused["limit"], refused["scope"]) == (
        429,
        "Too many requests",
        "3/60s",
        "connection",
    )
    assert 19.0 < refused["retry_after"] <= 20.0
    assert refused["type"] == "https://example.com/problems/websocket/rate-limited"
    assert outcome(after) == "health"  # other actions, and the connection, go on
    # The user's four a minute: its second connection gets the fourth, then the user's limit refuses.
    assert [outcome(frame) for frame in users] == ["echoed", "rate_limited"]
    assert (users[1]["limit"], users[1]["scope"]) == ("4/60s", "user")


async def test_a_client_that_asks_on_past_its_refusal_budget_is_closed_with_4429(served: Server) -> None:
    refusals = 0
    async with connected(served.url(), user_id=9, v1=True) as ws:
        with anyio.fail_after(20):
            try:
                for _ in range(200):
                    if outcome(await ask(ws)) == "rate_limited":
                        refusals += 1
            except ConnectionClosed:
                pass

    assert ws.close_code == 4429
    assert 55 <= refusals <= 62  # the default budget: a burst of 60 refusals (one more a second)
