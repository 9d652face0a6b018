"""Test an application's actions in memory, without a server or a framework.

:class:`ActionTestClient` drives the same dispatcher the adapters use, so what it receives is what a
real client would receive::

    async def test_echo() -> None:
        client = ActionTestClient(user_id=7)
        frames = await client.request("echo", {"text": "hi"})
        assert frames[0]["payload"] == {"text": "hi"}

Several clients that share one :class:`~beeflow_websocket.core.delivery.local.LocalConnections` reach each
other, and each other's users and groups, as connections of one server process do.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import AsyncExitStack, contextmanager
from uuid import UUID, uuid4

from pydantic import JsonValue
from pydantic_core import from_json, to_json

from beeflow_websocket.core.action_registry import ActionRegistryMeta, UserId
from beeflow_websocket.core.delivery.local import LocalConnections
from beeflow_websocket.core.event_registry import EventRegistryMeta
from beeflow_websocket.core.lifecycle import ConnectionLifecycle
from beeflow_websocket.core.recipient_registry import RecipientRegistryMeta
from beeflow_websocket.core.settings import DEFAULT_SETTINGS, DispatcherSettings
from beeflow_websocket.core.transport import Delivery

__all__ = ["ActionTestClient", "isolated_registries"]

type Frame = dict[str, JsonValue]


@contextmanager
def isolated_registries() -> Iterator[None]:
    """Forget the actions, events and recipients registered inside the block, built-ins restored.

    Classes register when they are defined and stay registered for the rest of the process; wrap a
    test (or make an autouse fixture of it) so that tests cannot see each other's classes::

        @pytest.fixture(autouse=True)
        def _isolated() -> Iterator[None]:
            with isolated_registries():
                yield
    """
    with (
        ActionRegistryMeta.registry.isolated(),
        EventRegistryMeta.registry.isolated(),
        RecipientRegistryMeta.registry.isolated(),
    ):
        yield


class ActionTestClient:
    """An in-memory connection: send actions, read the frames the server sends back.

    Args:
        user_id: The authenticated user the connection belongs to.
        websocket_id: The connection id; a random one by default.
        path: The connection path, the ``instance`` of error frames.
        settings: Protocol settings, as an adapter would pass them.
        connections: Shared with other clients to let events reach them; a private one by default.
        delivery: The engine that reaches other connections and groups (a
            :class:`~beeflow_websocket.core.delivery.redis.RedisDelivery` over ``connections``, say);
            ``connections`` itself by default.
    """

    def __init__(
        self,
        *,
        user_id: UserId = 1,
        websocket_id: str | None = None,
        path: str = "/ws/",
        settings: DispatcherSettings = DEFAULT_SETTINGS,
        connections: LocalConnections | None = None,
        delivery: Delivery | None = None,
    ) -> None:
        self.connections = connections if connections is not None else LocalConnections()
        self.raw_frames: list[str] = []
        self.closed_with: tuple[int, str] | None = None
        """The close code and reason, when the server closed the connection."""
        self._lifecycle = ConnectionLifecycle(
            _MemoryTransport(self),
            delivery=delivery if delivery is not None else self.connections,
            connections=self.connections,
            websocket_id=websocket_id or f"test.{uuid4().hex}",
            user_id=user_id,
            path=path,
            settings=settings,
        )
        self.dispatcher = self._lifecycle.dispatcher
        # Reachable by id from the start: a test may address a client that has sent nothing yet.
        # Opening (on the first send) adds it again, which changes nothing, and joins its user's group.
        self.connections.add(self.dispatcher)
        self._opened = False
        self._open = AsyncExitStack()

    @property
    def websocket_id(self) -> str:
        """This connection's id."""
        return self.dispatcher.websocket_id

    @property
    def frames(self) -> list[Frame]:
        """Every frame received so far, parsed, oldest first."""
        return [from_json(frame) for frame in self.raw_frames]

    async def send(
        self,
        action: str,
        payload: Mapping[str, JsonValue] | None = None,
        *,
        req_id: UUID | None = None,
    ) -> UUID:
        """Send an action envelope and wait until the server has answered it.

        Returns:
            The request's ``req_id``, to match the frames that answer it.
        """
        req_id = req_id or uuid4()
        envelope = {"msg_id": str(uuid4()), "req_id": str(req_id), "action": action, "payload": payload or {}}
        await self.send_frame(to_json(envelope).decode())
        return req_id

    async def open(self) -> None:
        """Connect: become reachable and join the user's group, as a served connection does.

        Sending opens the client too; open it explicitly to receive before sending anything.
        """
        if not self._opened:
            self._opened = True
            await self._open.enter_async_context(self._lifecycle)

    async def send_frame(self, frame: str | bytes) -> None:
        """Send a raw text (``str``) or binary (``bytes``) frame, valid or not; wait until it is handled."""
        await self.open()
        await self.dispatcher.receive(frame)
        await self.dispatcher.wait_idle()

    async def settle(self) -> None:
        """Wait until every event queued for this client has been written to it."""
        await self.dispatcher.wait_idle()

    async def request(self, action: str, payload: Mapping[str, JsonValue] | None = None) -> list[Frame]:
        """Send an action and return the frames this connection received while it ran."""
        first_new = len(self.raw_frames)
        await self.send(action, payload)
        return [from_json(frame) for frame in self.raw_frames[first_new:]]

    async def close(self) -> None:
        """Disconnect: running actions are stopped, and other connections can no longer reach this one."""
        await self.open()  # one that never opened ends the same way: forgotten and closed
        await self._open.aclose()


class _MemoryTransport:
    """Keeps what the server sends to one test client."""

    def __init__(self, client: ActionTestClient) -> None:
        self._client = client

    async def send(self, frame: str) -> None:
        self._client.raw_frames.append(frame)

    async def close(self, code: int, reason: str) -> None:
        self._client.closed_with = (code, reason)
