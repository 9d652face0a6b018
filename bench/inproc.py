"""Core alone, in process: frames through the dispatcher with no network and no framework."""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections.abc import AsyncIterator
from typing import ClassVar, Literal
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


async def core(frames: int, rounds: int = 3) -> dict[str, dict[str, float]]:
    """Frames through the dispatcher, pipelined: ``health`` in protocol 0 and v1, and a typed echo of 1 KiB.

    Each case runs ``rounds`` times, interleaved with the others, and keeps its best round: the
    machine's noise only ever adds time, and interleaving spreads a slow spell over every case, so
    the v1 to protocol 0 ratio is not decided by which ran during it.
    """
    cases = (
        ("health", "health", {}, 0),
        ("health, protocol v1", "health", {}, 1),
        ("typed echo, 1 KiB", "bench.echo", {"text": "x" * 1024}, 0),
    )
    results: dict[str, dict[str, float]] = {}
    for _ in range(rounds):
        for name, action, payload, version in cases:
            measured = await _round(frames, action, payload, version)
            best = results.get(name)
            if best is None or measured["cpu_us_per_frame"] < best["cpu_us_per_frame"]:
                results[name] = measured
    return results


async def _round(
    frames: int, action: str, payload: dict[str, str], version: Literal[0, 1]
) -> dict[str, float]:
    settings = DispatcherSettings(max_pending_messages=1024, max_outbound_messages=4096)
    client = ActionTestClient(settings=settings, protocol_version=version)
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
    assert len(client.raw_frames) == frames  # one frame each: in v1 too, the answer is final itself
    await client.close()
    return {"frames_per_second": frames / wall, "cpu_us_per_frame": cpu / frames * 1e6}


class Tick(Event, name="bench.tick"):
    """One event of a stream."""


class Ticker(Action, name="bench.ticker"):
    """50 events 5 ms apart; notes when its ``finally`` ran, which is when a cancel has stopped it."""

    stopped: ClassVar[dict[str, float]] = {}

    async def execute(self, message: ActionMessage, context: ActionContext) -> AsyncIterator[Tick]:
        try:
            for n in range(50):
                yield Tick(
                    recipient="websocket",
                    recipient_id=context.websocket_id,
                    req_id=message.req_id,
                    payload={"n": n},
                )
                await asyncio.sleep(0.005)
        finally:
            Ticker.stopped[str(message.req_id)] = time.perf_counter()


async def cancel_latency(rounds: int) -> dict[str, float]:
    """How long after a ``beeflow.cancel`` arrives its request has stopped, cancelled after 5 of 50 events.

    Measured from the cancel frame entering the dispatcher to the action's ``finally`` having run,
    and to the request's terminal frame having been written; checked that nothing of it follows.
    """
    stopped, ended = [], []
    for _ in range(rounds):
        client = ActionTestClient()
        req_id = await client.start("bench.ticker")
        while sum(1 for frame in client.frames if frame.get("req_id") == str(req_id)) < 5:  # noqa: ASYNC110
            await asyncio.sleep(0.0005)
        cancel = json.dumps(
            {
                "msg_id": str(uuid4()),
                "req_id": str(uuid4()),
                "action": "beeflow.cancel",
                "payload": {"req_id": str(req_id)},
            }
        )
        arrived = time.perf_counter()
        await client.dispatcher.receive(cancel)
        outcome = await client.outcome(req_id)
        terminal_at = time.perf_counter()
        await asyncio.sleep(0.02)
        assert outcome.problem is not None
        assert outcome.problem["code"] == "request_cancelled"
        assert [f for f in client.frames if f.get("req_id") == str(req_id)][-1] == outcome.terminal
        stopped.append(Ticker.stopped.pop(str(req_id)) - arrived)
        ended.append(terminal_at - arrived)
        await client.close()
    return {
        "stopped_ms_median": statistics.median(stopped) * 1000,
        "stopped_ms_max": max(stopped) * 1000,
        "terminal_ms_max": max(ended) * 1000,
    }
