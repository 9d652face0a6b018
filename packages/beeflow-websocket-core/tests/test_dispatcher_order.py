"""A reader that falls behind still sees ``seq`` 1, 2, 3, ... in the order frames arrive.

Own replies and events from elsewhere compete for a small outbound queue while the client reads
slowly; whoever gets room first, the numbers must follow the order of the frames on the wire.
"""

import asyncio
import random
from collections.abc import AsyncIterator

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
            yield Tick(recipient="websocket", recipient_id=context.websocket_id, payload={"n": n})


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


@pytest.mark.parametrize("seed", range(5))
async def test_seq_follows_arrival_order_under_own_and_foreign_bursts(seed: int) -> None:
    reader = SlowReader(seed)
    settings = DispatcherSettings(max_outbound_messages=4, max_concurrent_actions=4, slow_consumer_timeout=30)
    dispatcher = ConnectionDispatcher(
        reader, delivery=LocalConnections(), websocket_id="slow", user_id=1, path="/ws/", settings=settings
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
            envelope = {
                "msg_id": "3f0b1f9e-1a44-4c9b-9a9e-7d7c1f3f8a10",
                "req_id": "5d1b7d2c-7a0e-4f65-8b1c-2f3e4d5c6b7a",
            }
            await dispatcher.receive(
                to_json(envelope | {"action": "burst", "payload": {"count": 20}}).decode()
            )

    async with asyncio.timeout(30):
        await asyncio.gather(push(150), push(150), ask(5))
        await dispatcher.wait_idle()
    await dispatcher.close()

    numbers = [from_json(frame)["seq"] for frame in reader.frames]
    assert len(numbers) == 400
    assert numbers == list(range(1, 401))
