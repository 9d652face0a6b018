import asyncio

import pytest

from beeflow_websocket.client import Unauthorized
from beeflow_websocket.client._tokens import Tokens

pytestmark = pytest.mark.anyio


async def test_concurrent_attempts_share_one_call_and_the_next_attempt_calls_again() -> None:
    calls = 0
    release = asyncio.Event()

    async def source() -> str:
        nonlocal calls
        calls += 1
        await release.wait()
        return f"token-{calls}"

    tokens = Tokens(None, source)
    waiting = [asyncio.create_task(tokens.fresh()) for _ in range(3)]
    await asyncio.sleep(0)
    release.set()

    assert await asyncio.gather(*waiting) == ["token-1"] * 3
    assert await tokens.fresh() == "token-2"
    assert calls == 2


async def test_a_fixed_token_none_and_a_source_without_a_user() -> None:
    async def nobody() -> None:
        return None

    assert await Tokens("fixed", None).fresh() == "fixed"
    assert await Tokens(None, None).fresh() is None
    with pytest.raises(Unauthorized):
        await Tokens(None, nobody).fresh()
