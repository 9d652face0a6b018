import asyncio
import logging
import time

import pytest

from beeflow_websocket.core.delivery.local import LocalConnections
from beeflow_websocket.core.dispatcher import ConnectionDispatcher
from beeflow_websocket.core.settings import DispatcherSettings
from beeflow_websocket.core.transport import OutboundEvent

from transports import Recording, Stalled

pytestmark = pytest.mark.anyio

EVENT = OutboundEvent(
    req_id=None, body='{"event":"e","recipient":"websocket","recipient_id":"a","payload":{}}'
)


def connection(
    websocket_id: str, sink: Recording, connections: LocalConnections | None = None
) -> ConnectionDispatcher:
    return ConnectionDispatcher(
        sink, delivery=connections or LocalConnections(), websocket_id=websocket_id, user_id=1, path="/ws/"
    )


async def test_send_to_connections_delivers_to_live_ones() -> None:
    connections = LocalConnections()
    a, b = Recording(), Recording()
    first, second = connection("a", a, connections), connection("b", b, connections)
    connections.add(first)
    connections.add(second)

    await connections.send_to_connections(["a", "b"], EVENT)
    await first.wait_idle()
    await second.wait_idle()

    assert len(a.frames) == len(b.frames) == 1
    assert len(connections) == 2
    await first.close()
    await second.close()


async def test_gone_connections_are_dropped_with_a_debug_record(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="beeflow_websocket.core.delivery.local")

    await LocalConnections().send_to_connections(["gone"], EVENT)

    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.DEBUG, "dropped an event for connection gone: not connected here")
    ]


async def test_groups_hold_their_members_until_they_leave() -> None:
    connections = LocalConnections()
    sinks = {name: Recording() for name in "abc"}
    dispatchers = {name: connection(name, sink, connections) for name, sink in sinks.items()}
    for dispatcher in dispatchers.values():
        connections.add(dispatcher)
    await connections.add_to_group("room", "a")
    await connections.add_to_group("room", "b")
    await connections.remove_from_group("room", "b")
    await connections.remove_from_group("room", "never-joined")
    await connections.remove_from_group("no-such-group", "a")

    await connections.send_to_group("room", EVENT)
    await connections.send_to_group("empty", EVENT)
    for dispatcher in dispatchers.values():
        await dispatcher.wait_idle()
        await dispatcher.close()

    assert [len(sink.frames) for sink in sinks.values()] == [1, 0, 0]
    assert connections.members("room") == {"a"}
    await connections.remove_from_group("room", "a")
    assert connections.members("room") == frozenset()


def test_ids_are_unique_among_live_connections() -> None:
    connections = LocalConnections()
    first = connection("a", Recording())
    connections.add(first)
    connections.add(first)

    with pytest.raises(ValueError, match="already has the id 'a'"):
        connections.add(connection("a", Recording()))


def test_discard_forgets_only_the_same_connection() -> None:
    connections = LocalConnections()
    first, second = connection("a", Recording()), connection("a", Recording())
    connections.add(first)

    connections.discard(second)
    assert "a" in connections
    connections.discard(first)
    assert "a" not in connections
    connections.discard(first)


async def test_stalled_members_cost_the_others_one_timeout_in_all() -> None:
    connections = LocalConnections()
    settings = DispatcherSettings(max_outbound_messages=1, slow_consumer_timeout=0.5)
    healthy, stalled = [Recording() for _ in range(3)], [Stalled() for _ in range(4)]
    transports: list[Recording | Stalled] = [*healthy, *stalled]
    for n, transport in enumerate(transports):
        member = ConnectionDispatcher(
            transport, delivery=connections, websocket_id=f"m{n}", user_id=1, path="/ws/", settings=settings
        )
        connections.add(member)
        await connections.add_to_group("room", member.websocket_id)
    await connections.send_to_group("room", EVENT)  # each stalled member's writer now hangs on it
    await connections.send_to_group("room", EVENT)  # and this one fills their queues

    started = time.monotonic()
    await connections.send_to_group("room", EVENT)
    elapsed = time.monotonic() - started
    await asyncio.sleep(0.05)

    # One timeout for all four stalled members (it was one each: 2 s).
    assert 0.5 <= elapsed < 1.0, f"the sender waited {elapsed:.2f} s"
    assert [len(sink.frames) for sink in healthy] == [3, 3, 3]
    assert all(client.closed_with is not None and client.closed_with[0] == 1013 for client in stalled)


class SlowReader(Recording):
    """A client that keeps reading, slower than it is sent to."""

    async def send(self, frame: str) -> None:
        await asyncio.sleep(0.02)
        self.frames.append(frame)


async def test_a_slow_reader_that_keeps_reading_is_not_closed() -> None:
    connections = LocalConnections()
    settings = DispatcherSettings(max_outbound_messages=4, slow_consumer_timeout=0.05)
    reader = SlowReader()
    member = ConnectionDispatcher(
        reader, delivery=connections, websocket_id="slow", user_id=1, path="/ws/", settings=settings
    )
    connections.add(member)
    await connections.add_to_group("room", "slow")

    async def sender() -> None:
        for _ in range(25):
            await connections.send_to_group("room", EVENT)

    async with asyncio.timeout(20):
        await asyncio.gather(*(sender() for _ in range(6)))
        assert not member.closed, "closed as not reading"
        await member.wait_idle()

    assert len(reader.frames) == 150


def test_the_engines_keep_their_0_4_import_paths() -> None:
    from beeflow_websocket.core.delivery.local import LocalConnections as Moved
    from beeflow_websocket.core.local import LocalConnections as Kept

    assert Kept is Moved
