import logging
from collections.abc import Collection

import pytest

from beeflow_websocket.core.dispatcher import ConnectionDispatcher
from beeflow_websocket.core.local import LocalConnections
from beeflow_websocket.core.transport import OutboundEvent

pytestmark = pytest.mark.anyio

EVENT = OutboundEvent(
    req_id=None, body='{"event":"e","recipient":"websocket","recipient_id":"a","payload":{}}'
)


class Sink:
    def __init__(self, *, fail: bool = False) -> None:
        self.frames: list[str] = []
        self.fail = fail

    async def send(self, frame: str) -> None:
        if self.fail:
            raise ConnectionResetError("peer went away")
        self.frames.append(frame)

    async def route(self, websocket_ids: Collection[str], event: OutboundEvent) -> None:
        raise AssertionError("not used here")


def connection(websocket_id: str, sink: Sink) -> ConnectionDispatcher:
    return ConnectionDispatcher(sink, websocket_id=websocket_id, user_id=1, path="/ws/")


async def test_route_delivers_to_live_connections() -> None:
    connections = LocalConnections()
    a, b = Sink(), Sink()
    connections.add(connection("a", a))
    connections.add(connection("b", b))

    await connections.route(["a", "b"], EVENT)

    assert len(a.frames) == len(b.frames) == 1
    assert len(connections) == 2


async def test_gone_connections_are_dropped_with_a_debug_record(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="beeflow_websocket.core.local")
    connections = LocalConnections()
    closing = Sink(fail=True)
    connections.add(connection("closing", closing))

    await connections.route(["gone", "closing"], EVENT)

    messages = [(r.levelno, r.getMessage()) for r in caplog.records]
    assert messages == [
        (logging.DEBUG, "dropped an event for connection gone: not connected here"),
        (logging.DEBUG, "dropped an event for connection closing: it is closing"),
    ]


def test_ids_are_unique_among_live_connections() -> None:
    connections = LocalConnections()
    first = connection("a", Sink())
    connections.add(first)
    connections.add(first)

    with pytest.raises(ValueError, match="already has the id 'a'"):
        connections.add(connection("a", Sink()))


def test_discard_forgets_only_the_same_connection() -> None:
    connections = LocalConnections()
    first, second = connection("a", Sink()), connection("a", Sink())
    connections.add(first)

    connections.discard(second)
    assert "a" in connections
    connections.discard(first)
    assert "a" not in connections
    connections.discard(first)
