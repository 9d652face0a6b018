"""Rate limits as arithmetic: the text form, and token buckets whose state is when they are full again."""

from typing import cast

import pytest

from beeflow_websocket.core.guardrails.rate_limits import (
    Buckets,
    LocalTokens,
    RateLimit,
    Wait,
    rate_limit,
    retry_after,
)

TEN_A_SECOND = RateLimit(10, 1.0)


def about(seconds: float, tolerance: float | None = None) -> float:
    """``seconds`` give or take rounding, where a wait is compared."""
    return cast("float", pytest.approx(seconds, abs=tolerance))


@pytest.mark.parametrize(
    ("text", "limit"),
    [
        ("10/s", RateLimit(10, 1.0)),
        ("100/min", RateLimit(100, 60.0)),
        (" 1000 / hour ", RateLimit(1000, 3600.0)),
        ("5/10s", RateLimit(5, 10.0)),
        ("3/0.5s", RateLimit(3, 0.5)),
        ("1/2h", RateLimit(1, 7200.0)),
    ],
)
def test_the_text_form(text: str, limit: RateLimit) -> None:
    assert RateLimit.parse(text) == limit
    assert RateLimit.parse(str(limit)) == limit


@pytest.mark.parametrize(
    "text", ["", "10", "10/", "/s", "10/fortnight", "0/s", "-1/s", "10/0s", "ten/s", "10/./s"]
)
def test_what_is_not_a_rate_limit_is_refused_with_its_form(text: str) -> None:
    with pytest.raises(ValueError, match=r"<count>/<period>|positive"):
        RateLimit.parse(text)


@pytest.mark.parametrize(
    ("count", "period"), [(0, 1.0), (True, 1.0), (1.5, 1.0), (1, 0), (1, -1.0), (1, "1")]
)
def test_a_limit_needs_a_positive_count_and_period(count: object, period: object) -> None:
    with pytest.raises(ValueError, match="positive"):
        RateLimit(count, period)  # type: ignore[arg-type]


def test_a_setting_takes_text_a_limit_or_none_and_names_itself_when_wrong() -> None:
    assert rate_limit("10/s", "rate_limit") == TEN_A_SECOND
    assert rate_limit(TEN_A_SECOND, "rate_limit") is TEN_A_SECOND
    assert rate_limit(None, "rate_limit") is None
    with pytest.raises(ValueError, match=r"^user_rate_limit: 'often' is not a rate limit"):
        rate_limit("often", "user_rate_limit")


def test_a_burst_of_count_is_taken_then_one_token_per_interval() -> None:
    buckets = Buckets()
    now = 100.0

    taken = [buckets.take([("c", TEN_A_SECOND)], now) for _ in range(10)]
    refused = buckets.take([("c", TEN_A_SECOND)], now)

    assert taken == [None] * 10
    assert refused == Wait(about(0.1), TEN_A_SECOND)
    assert buckets.take([("c", TEN_A_SECOND)], now + 0.05) == Wait(about(0.05), TEN_A_SECOND)
    assert buckets.take([("c", TEN_A_SECOND)], now + 0.1) is None
    assert buckets.take([("c", TEN_A_SECOND)], now + 0.1) is not None


def test_the_sustained_rate_is_the_limit() -> None:
    buckets, limit = Buckets(), RateLimit(5, 1.0)
    taken = sum(buckets.take([("c", limit)], step * 0.01) is None for step in range(1000))  # 100/s for 10 s

    assert taken == 5 + 49  # the first burst, then one every 0.2 s: at 0.2 s, 0.4 s, ... 9.8 s


def test_several_buckets_are_taken_from_all_or_none() -> None:
    buckets = Buckets()
    one_a_second = RateLimit(1, 1.0)
    assert buckets.take([("connection", TEN_A_SECOND), ("search", one_a_second)], 0.0) is None

    refused = buckets.take([("connection", TEN_A_SECOND), ("search", one_a_second)], 0.0)
    # The connection's bucket was not taken from: nine more go through it alone.
    alone = [buckets.take([("connection", TEN_A_SECOND)], 0.0) for _ in range(10)]

    assert refused == Wait(about(1.0), one_a_second)  # the longest wait names its limit
    assert alone == [*([None] * 9), Wait(about(0.1), TEN_A_SECOND)]


def test_full_buckets_are_forgotten_once_there_are_many() -> None:
    buckets = Buckets(prune_above=3)
    for key in "abcd":  # all in use at once: none can be forgotten, so the bound doubles
        buckets.take([(key, TEN_A_SECOND)], 0.0)
    assert len(buckets) == 4

    for key in "efg":  # by t=5 the first four are full again, and a full bucket needs no state
        buckets.take([(key, TEN_A_SECOND)], 5.0)

    assert len(buckets) == 3


def test_retry_after_is_rounded_up_to_the_millisecond() -> None:
    assert retry_after(0.1) == 0.1
    assert retry_after(0.0001) == 0.001
    assert retry_after(1.2341) == 1.235


@pytest.mark.anyio
async def test_local_tokens_keep_each_owner_s_buckets_apart() -> None:
    tokens, one = LocalTokens(), RateLimit(1, 60.0)

    assert await tokens.take("7", [("", one)]) is None
    assert await tokens.take("8", [("", one)]) is None  # another user
    assert await tokens.take("7", [("search", one)]) is None  # another bucket of the same user
    assert (await tokens.take("7", [("", one)])) == Wait(about(60.0, 0.5), one)
