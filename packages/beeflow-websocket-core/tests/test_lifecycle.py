"""One connection's life (beeflow_websocket.core.lifecycle), as every adapter lives it."""

from collections.abc import Collection

import pytest

from beeflow_websocket.core.configuration import AdapterState
from beeflow_websocket.core.delivery.local import LocalConnections
from beeflow_websocket.core.groups import user_group
from beeflow_websocket.core.lifecycle import ConnectionLifecycle
from beeflow_websocket.core.problems import DeliveryUnavailable
from beeflow_websocket.core.protocol import ConnectionState
from beeflow_websocket.core.settings import DEFAULT_SETTINGS
from beeflow_websocket.core.transport import Delivery, OutboundEvent

from transports import Recording

pytestmark = pytest.mark.anyio


class RefusingDelivery(LocalConnections):
    """An engine that cannot record a new connection (Redis down at the handshake)."""

    async def add_to_group(self, group: str, websocket_id: str) -> None:
        raise DeliveryUnavailable("The engine is down.")

    async def send_to_connections(self, websocket_ids: Collection[str], event: OutboundEvent) -> None:
        raise AssertionError("nothing is sent")


def served(*, delivery: Delivery, connections: LocalConnections | None, user_id: int) -> ConnectionLifecycle:
    """The life of connection ``c1``, without an adapter state."""
    return ConnectionLifecycle(
        Recording(),
        delivery=delivery,
        connections=connections,
        websocket_id="c1",
        user_id=user_id,
        path="/ws/",
        settings=DEFAULT_SETTINGS,
    )


async def test_inside_the_block_the_connection_is_reachable_and_in_its_user_group() -> None:
    state = AdapterState()

    async with state.connection(Recording(), user_id=7, websocket_id="c1", path="/ws/") as dispatcher:
        assert "c1" in state.connections
        assert state.connections.members(user_group(7)) == {"c1"}
        assert dispatcher.protocol.open

    assert "c1" not in state.connections
    assert state.connections.members(user_group(7)) == frozenset()
    assert dispatcher.protocol.state is ConnectionState.CLOSED


async def test_an_error_in_the_block_still_closes_the_connection() -> None:
    state = AdapterState()
    lifecycle = state.connection(Recording(), user_id=7, path="/ws/")

    with pytest.raises(RuntimeError, match="adapter failed"):
        async with lifecycle:
            raise RuntimeError("adapter failed")

    assert lifecycle.dispatcher.protocol.state is ConnectionState.CLOSED
    assert len(state.connections) == 0


async def test_a_connection_that_cannot_open_is_closed_and_forgotten_before_the_error() -> None:
    connections = RefusingDelivery()
    lifecycle = served(delivery=connections, connections=connections, user_id=7)

    with pytest.raises(DeliveryUnavailable):
        async with lifecycle:
            raise AssertionError("the block must not run")

    assert "c1" not in connections
    assert lifecycle.dispatcher.closed


async def test_two_live_connections_cannot_share_an_id() -> None:
    state = AdapterState()

    async with state.connection(Recording(), user_id=1, websocket_id="same", path="/ws/"):
        second = state.connection(Recording(), user_id=2, websocket_id="same", path="/ws/")
        with pytest.raises(ValueError, match="already has the id 'same'"):
            async with second:
                raise AssertionError("the block must not run")
        assert "same" in state.connections

    assert "same" not in state.connections


async def test_without_local_connections_the_engine_alone_reaches_the_connection() -> None:
    engine = LocalConnections()
    lifecycle = served(delivery=engine, connections=None, user_id=3)

    async with lifecycle:
        assert engine.members(user_group(3)) == {"c1"}
        assert "c1" not in engine

    assert engine.members(user_group(3)) == frozenset()
