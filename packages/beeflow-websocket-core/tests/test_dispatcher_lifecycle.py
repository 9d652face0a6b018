"""The dispatcher over time: ordering, concurrency, backpressure, closing mid-action, logging."""

import asyncio
import logging
from collections.abc import AsyncIterator
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


class Step(Event, name="step"):
    pass


class Sink:
    def __init__(self, *, fail: bool = False) -> None:
        self.frames: list[dict[str, object]] = []
        self.fail = fail
        self.closed_with: tuple[int, str] | None = None
        self.reading = asyncio.Event()
        self.reading.set()

    async def send(self, frame: str) -> None:
        if self.fail:
            raise ConnectionResetError("the peer went away")
        await self.reading.wait()
        self.frames.append(from_json(frame))

    async def close(self, code: int, reason: str) -> None:
        self.closed_with = (code, reason)


def envelope(action: str, **payload: object) -> str:
    return to_json(
        {"msg_id": str(uuid4()), "req_id": str(uuid4()), "action": action, "payload": payload}
    ).decode()


async def settle() -> None:
    """Let every ready task run until none is left that can move."""
    for _ in range(20):
        await asyncio.sleep(0)


@pytest.fixture
def gates() -> dict[str, asyncio.Event]:
    """Named events that the Gate action waits for, so a test decides when each action may finish."""
    registry: dict[str, asyncio.Event] = {}

    class Gate(metaclass=ActionRegistryMeta, name="gate"):
        async def execute(
            self, message: WebSocketActionPayload, context: ActionContext
        ) -> AsyncIterator[Step]:
            name = str(message.payload["name"])
            yield Step(recipient="websocket", recipient_id=context.websocket_id, payload={"started": name})
            await registry.setdefault(name, asyncio.Event()).wait()
            yield Step(recipient="websocket", recipient_id=context.websocket_id, payload={"finished": name})

    return registry


def dispatcher(
    sink: Sink, *, max_concurrent_actions: int = 1, max_pending_messages: int = 32
) -> ConnectionDispatcher:
    settings = DispatcherSettings(
        max_concurrent_actions=max_concurrent_actions, max_pending_messages=max_pending_messages
    )
    return ConnectionDispatcher(
        sink, delivery=LocalConnections(), websocket_id="c", user_id=1, path="/ws/", settings=settings
    )


def steps(sink: Sink) -> list[object]:
    """The first payload value of each event frame, or the code of each error frame."""
    found: list[object] = []
    for frame in sink.frames:
        payload = frame.get("payload")
        found.append(next(iter(payload.values())) if isinstance(payload, dict) else frame["code"])
    return found


async def test_by_default_frames_are_handled_one_after_another(gates: dict[str, asyncio.Event]) -> None:
    sink = Sink()
    connection = dispatcher(sink)
    await connection.receive(envelope("gate", name="slow"))
    await connection.receive("not json")
    await connection.receive(envelope("gate", name="fast"))
    gates["fast"] = asyncio.Event()
    gates["fast"].set()
    await settle()

    assert steps(sink) == ["slow"]
    gates["slow"].set()
    await connection.wait_idle()
    await connection.close()

    assert steps(sink) == ["slow", "slow", "invalid_websocket_message", "fast", "fast"]
    assert [frame.get("seq") for frame in sink.frames] == [1, 2, None, 3, 4]


async def test_more_concurrent_actions_let_a_fast_one_pass_a_slow_one(
    gates: dict[str, asyncio.Event],
) -> None:
    sink = Sink()
    connection = dispatcher(sink, max_concurrent_actions=2)
    gates["fast"] = asyncio.Event()
    gates["fast"].set()
    await connection.receive(envelope("gate", name="slow"))
    await connection.receive(envelope("gate", name="fast"))
    await settle()

    assert steps(sink) == ["slow", "fast", "fast"]
    gates["slow"].set()
    await connection.wait_idle()
    await connection.close()
    assert steps(sink) == ["slow", "fast", "fast", "slow"]
    assert [frame["seq"] for frame in sink.frames] == [1, 2, 3, 4]


async def test_a_full_queue_holds_the_reader_back_and_loses_nothing(gates: dict[str, asyncio.Event]) -> None:
    sink = Sink()
    connection = dispatcher(sink, max_pending_messages=2)
    await connection.receive(envelope("gate", name="block"))
    await settle()
    await connection.receive(envelope("health"))
    await connection.receive(envelope("health"))
    reader = asyncio.create_task(connection.receive(envelope("health")))
    await settle()

    assert not reader.done()
    gates["block"].set()
    await reader
    await connection.wait_idle()
    await connection.close()
    assert steps(sink) == ["block", "block", "ok", "ok", "ok"]


async def test_closing_releases_a_reader_held_back_by_a_full_queue(gates: dict[str, asyncio.Event]) -> None:
    sink = Sink()
    connection = dispatcher(sink, max_pending_messages=1)
    await connection.receive(envelope("gate", name="block"))
    await settle()
    await connection.receive(envelope("health"))
    reader = asyncio.create_task(connection.receive(envelope("health")))
    await settle()
    assert not reader.done()

    await connection.close()
    await asyncio.wait_for(reader, 1)  # the adapter's read loop is not left hanging
    await connection.receive(envelope("health"))  # and later frames are ignored

    assert steps(sink) == ["block"]


async def test_closing_mid_action_runs_its_finally_and_sends_nothing_more(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    started, finished = asyncio.Event(), asyncio.Event()

    class Long(metaclass=ActionRegistryMeta, name="long"):
        async def execute(
            self, message: WebSocketActionPayload, context: ActionContext
        ) -> AsyncIterator[Step]:
            try:
                yield Step(recipient="websocket", recipient_id=context.websocket_id, payload={"n": 1})
                started.set()
                await asyncio.Event().wait()
                yield Step(recipient="websocket", recipient_id=context.websocket_id, payload={"n": 2})
            finally:
                finished.set()

    sink = Sink()
    connection = dispatcher(sink)
    await connection.receive(envelope("long"))
    await connection.receive(envelope("health"))
    await started.wait()
    await connection.close()
    await connection.receive(envelope("health"))
    await connection.deliver(
        OutboundEvent(
            req_id=None, body='{"event":"x","recipient":"websocket","recipient_id":"c","payload":{}}'
        )
    )
    await connection.close()

    assert finished.is_set()
    assert connection.closed
    assert steps(sink) == [1]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [getattr(r, "outcome", None) for r in caplog.records if getattr(r, "action", None) == "long"] == [
        "cancelled"
    ]


async def test_frames_made_while_a_write_waits_queue_behind_it_in_order(
    gates: dict[str, asyncio.Event],
) -> None:
    sink = Sink()
    sink.reading.clear()  # the client reads nothing for now: the first write waits
    connection = dispatcher(sink, max_concurrent_actions=2)
    gates["first"], gates["second"] = asyncio.Event(), asyncio.Event()
    gates["second"].set()
    await connection.receive(envelope("gate", name="first"))
    await connection.receive(envelope("gate", name="second"))
    await connection.deliver(
        OutboundEvent(
            req_id=None,
            body='{"event":"x","recipient":"websocket","recipient_id":"c","payload":{"k":"pushed"}}',
        )
    )
    await settle()
    assert sink.frames == []

    sink.reading.set()
    gates["first"].set()
    await connection.wait_idle()
    await connection.close()

    assert steps(sink) == ["first", "second", "second", "pushed", "first"]
    assert [frame["seq"] for frame in sink.frames] == [1, 2, 3, 4, 5]


async def test_a_connection_that_fails_while_written_to_is_closed_without_an_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    connection = dispatcher(Sink(fail=True))
    await connection.receive(envelope("health"))
    await connection.receive("not json")
    await connection.wait_idle()

    assert connection.closed
    assert "connection c went away while being written to" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    await connection.close()


async def test_each_completed_action_logs_one_record(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="beeflow_websocket")
    sink = Sink()
    connection = dispatcher(sink)
    await connection.receive(envelope("health"))
    await connection.receive("[]")
    await connection.wait_idle()
    await connection.close()

    [completed] = [r for r in caplog.records if getattr(r, "action", None) == "health"]
    assert completed.levelno == logging.INFO
    assert (getattr(completed, "outcome"), getattr(completed, "events")) == ("ok", 1)  # noqa: B009
    assert isinstance(getattr(completed, "duration_ms"), float)  # noqa: B009
    [rejected] = [r for r in caplog.records if "rejected a frame" in r.getMessage()]
    assert rejected.levelno == logging.DEBUG
    assert rejected.getMessage() == "rejected a frame on connection c: invalid_websocket_message"


async def test_a_client_that_stops_reading_is_closed_and_does_not_slow_the_sender(
    caplog: pytest.LogCaptureFixture,
) -> None:
    connections = LocalConnections()
    slow, fast = Sink(), Sink()
    slow.reading.clear()
    settings = DispatcherSettings(max_outbound_messages=4, slow_consumer_timeout=0.05)
    reader = ConnectionDispatcher(
        slow, delivery=connections, websocket_id="slow", user_id=1, path="/ws/", settings=settings
    )
    other = ConnectionDispatcher(
        fast, delivery=connections, websocket_id="fast", user_id=2, path="/ws/", settings=settings
    )
    for connection in (reader, other):
        connections.add(connection)
        await connection.open()
        await connection.join("room")
    event = OutboundEvent(
        req_id=None, body='{"event":"tick","recipient":"group","recipient_id":"room","payload":{}}'
    )

    for _ in range(10):
        await connections.send_to_group("room", event)
        await settle()

    assert slow.closed_with == (1013, "outbound queue full: the client is not reading")
    assert reader.closed
    assert len(fast.frames) == 10
    assert (
        "closing connection slow: nothing could be written to it for 0.1 s while 4 frames waited; "
        "its client is not reading" in caplog.text
    )
    assert connections.members("room") == {"fast"}
    await other.close()
