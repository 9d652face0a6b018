"""Core alone, in process: frames through the dispatcher with no network and no framework."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from uuid import uuid4

from pydantic import BaseModel

from beeflow_websocket.core.action_registry import Action, ActionContext
from beeflow_websocket.core.event_registry import Event
from beeflow_websocket.core.payloads import ActionMessage
from beeflow_websocket.core.settings import DispatcherSettings
from beeflow_websocket.core.testing import ActionTestClient


class Text(BaseModel):
    text: str


class Echoed(Event[Text], name="bench.echoed"):
    """The text of a typed echo, sent back."""


class Echo(Action[Text], name="bench.echo"):
    async def execute(self, message: ActionMessage[Text], context: ActionContext) -> AsyncIterator[Echoed]:
        yield Echoed(
            recipient="websocket",
            recipient_id=context.websocket_id,
            req_id=message.req_id,
            payload=message.payload,
        )


async def core(frames: int) -> dict[str, dict[str, float]]:
    """Frames through the dispatcher, pipelined: ``health``, and a typed echo of 1 KiB."""
    results = {}
    settings = DispatcherSettings(max_pending_messages=1024, max_outbound_messages=4096)
    for name, action, payload in (
        ("health", "health", {}),
        ("typed echo, 1 KiB", "bench.echo", {"text": "x" * 1024}),
    ):
        client = ActionTestClient(settings=settings)
        await client.open()
        batch = [
            json.dumps({"msg_id": str(uuid4()), "req_id": str(uuid4()), "action": action, "payload": payload})
            for _ in range(frames)
        ]
        started, cpu = time.perf_counter(), time.process_time()
        for frame in batch:
            await client.dispatcher.receive(frame)
        await client.dispatcher.wait_idle()
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        assert len(client.raw_frames) == frames
        results[name] = {"frames_per_second": frames / wall, "cpu_us_per_frame": cpu / frames * 1e6}
        await client.close()
    return results
