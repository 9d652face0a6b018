"""A reader that falls behind still sees ``seq`` 1, 2, 3, ... in the order frames arrive.

Own replies and events from elsewhere compete for a small outbound queue while the client reads
slowly; whoever gets room first, the numbers must follow the order of the frames on the wire.
"""

import asyncio
import random
from collections.abc import AsyncIterator
from typing import Literal
from uuid import uuid4

import pytest
from pydantic_core import from_json, to_json

from beeflow_websocket.core.action_registry import ActionContext, ActionRegistryMeta
from beeflow_websocket.core.delivery.local import LocalConnections
from beeflow_websocket.core.dispatcher import ConnectionDispatcher
from beeflow_websocket.core.event_registry import Event
from beeflow_websocket.core.payloads import WebSocketActionPayload
from beeflow_websocket.core.settings import DispatcherSettings
from beeflow_websocket.core.transport import OutboundEvent

pytestmark = pytest.mark.anyio


class Tick(Event, name="tick"):
    pass


class Burst(metaclass=ActionRegistryMeta, name="burst"):
    async def execute(self, message: WebSocketActionPayload, context: ActionContext) -> AsyncIterator[Tick]:
        for n in range(int(str(message.payload["count"]))):
            yield Tick(
                recipient="websocket",
                recipient_id=context.websocket_id,
                req_id=message.req_id,
                payload={"n": n},
            )


class SlowReader:
    """A client that reads each frame after a random short pause."""

    def __init__(self, seed: int) -> None:
        self.frames: list[str] = []
        self._random = random.Random(seed)

    async def send(self, frame: str) -> None:
        await asyncio.sleep(self._random.choice((0, 0, 0.001)))
        self.frames.append(frame)

    async def close(self, code: int, reason: str) -> None:
        raise AssertionError(f"closed with {code}: {reason}")


@pytest.mark.parametrize("version", [0, 1])
@pytest.mark.parametrize("seed", range(5))
async def test_seq_follows_arrival_order_under_own_and_foreign_bursts(
    seed: int, version: Literal[0, 1]
) -> None:
    reader = SlowReader(seed)
    settings = DispatcherSettings(max_outbound_messages=4, max_concurrent_actions=4, slow_consumer_timeout=30)
    dispatcher = ConnectionDispatcher(
        reader,
        delivery=LocalConnections(),
        websocket_id="slow",
        user_id=1,
        path="/ws/",
        settings=settings,
        protocol_version=version,
    )
    foreign = OutboundEvent(
        req_id=None, body='{"event":"note","recipient":"group","recipient_id":"r","payload":{}}'
    )

    async def push(count: int) -> None:
        for _ in range(count):
            await dispatcher.deliver(foreign)
            await asyncio.sleep(0)

    async def ask(count: int) -> None:
        for _ in range(count):
            envelope = {"msg_id": str(uuid4()), "req_id": str(uuid4())}
            await dispatcher.receive(
                to_json(envelope | {"action": "burst", "payload": {"count": 20}}).decode()
            )

    async with asyncio.timeout(30):
        await asyncio.gather(push(150), push(150), ask(5))
        await dispatcher.wait_idle()
    await dispatcher.close()

    frames = [from_json(frame) for frame in reader.frames]
    numbers = [frame["seq"] for frame in frames]
    assert numbers == list(range(1, len(frames) + 1))
    ticks = [frame for frame in frames if frame["event"] == "tick"]
    assert len(ticks) == 100
    assert len(frames) - len(ticks) >= 300
    if version:
        # Each request's 20 events, in order, end with exactly one terminal frame, its last.
        for req_id in {frame["req_id"] for frame in ticks}:
            own = [frame for frame in frames if frame.get("req_id") == req_id]
            assert [frame["payload"].get("n") for frame in own[:20]] == list(range(20))
            assert [frame["final"] for frame in own] == [False] * (len(own) - 1) + [True]
