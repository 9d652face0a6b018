"""Test an application's actions in memory, without a server or a framework.

:class:`ActionTestClient` drives the same dispatcher the adapters use, so what it receives is what a
real client would receive. It speaks protocol v1, where every request ends with one terminal frame,
so :meth:`ActionTestClient.call` returns a request's :class:`Outcome` as soon as it has ended, with
no settling::

    async def test_echo() -> None:
        client = ActionTestClient(user_id=7)
        outcome = await client.call("echo", {"text": "hi"})
        assert outcome.complete
        assert outcome.events[0]["payload"] == {"text": "hi"}

Several clients that share one :class:`~beeflow_websocket.core.delivery.local.LocalConnections` reach each
other, and each other's users and groups, as connections of one server process do. Through a
framework's own test client (FastAPI's ``TestClient``, Channels' ``WebsocketCommunicator``), offer
``beeflow.v1`` and read a request's frames with :func:`read_outcome` or :func:`aread_outcome`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass
from uuid import UUID, uuid4

from pydantic import JsonValue
from pydantic_core import from_json, to_json

from beeflow_websocket.core.action_registry import ActionRegistryMeta, UserId
from beeflow_websocket.core.delivery.local import LocalConnections
from beeflow_websocket.core.event_registry import EventRegistryMeta
from beeflow_websocket.core.guardrails.expiry import Expiry, Refresh
from beeflow_websocket.core.lifecycle import ConnectionLifecycle
from beeflow_websocket.core.negotiation import ProtocolVersion
from beeflow_websocket.core.protocol import CANCEL_ACTION, COMPLETE_EVENT, PING_ACTION, REFRESH_ACTION
from beeflow_websocket.core.recipient_registry import RecipientRegistryMeta
from beeflow_websocket.core.settings import DEFAULT_SETTINGS, DispatcherSettings
from beeflow_websocket.core.transport import Delivery

__all__ = ["ActionTestClient", "Outcome", "aread_outcome", "isolated_registries", "read_outcome"]

type Frame = dict[str, JsonValue]


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one request ended (protocol v1), with the frames of it its connection received.

    Attributes:
        req_id: The request.
        frames: Its frames in the order received; the last is its terminal frame (``"final": true``).
    """

    req_id: UUID
    frames: tuple[Frame, ...]

    @property
    def terminal(self) -> Frame:
        """The frame that ended the request."""
        return self.frames[-1]

    @property
    def complete(self) -> bool:
        """Whether the action ended without a problem (the terminal frame is an event)."""
        return "event" in self.terminal

    @property
    def problem(self) -> Frame | None:
        """The problem that ended the request; ``None`` when it completed."""
        return None if self.complete else self.terminal

    @property
    def events(self) -> list[Frame]:
        """The request's events, its last included, without a ``beeflow.complete``."""
        return [frame for frame in self.frames if "event" in frame and frame["event"] != COMPLETE_EVENT]

    @property
    def problems(self) -> list[Frame]:
        """Every problem frame of the request, the ones that did not end it included."""
        return [frame for frame in self.frames if "event" not in frame]


def _parsed(frame: str | bytes | Mapping[str, JsonValue]) -> Frame:
    return dict(frame) if isinstance(frame, Mapping) else from_json(frame)


def _belongs(frame: Frame, req_id: str) -> bool:
    """Whether ``frame`` is one of the request's own frames (others' events carry no ``final``)."""
    return frame.get("req_id") == req_id and "final" in frame


def read_outcome(receive: Callable[[], str | bytes | Mapping[str, JsonValue]], req_id: UUID) -> Outcome:
    """Read frames with ``receive`` until request ``req_id`` has ended; the other frames are skipped.

    For a framework's synchronous test client on a connection that offered ``beeflow.v1``, such as
    ``read_outcome(websocket.receive_json, req_id)`` with FastAPI's ``TestClient``.
    """
    wanted, frames = str(req_id), []
    while True:
        frame = _parsed(receive())
        if _belongs(frame, wanted):
            frames.append(frame)
            if frame["final"] is True:
                return Outcome(req_id, tuple(frames))


async def aread_outcome(
    receive: Callable[[], Awaitable[str | bytes | Mapping[str, JsonValue]]], req_id: UUID
) -> Outcome:
    """:func:`read_outcome` for an asynchronous test client, such as Channels' ``WebsocketCommunicator``.

    ``await aread_outcome(communicator.receive_json_from, req_id)``.
    """
    wanted, frames = str(req_id), []
    while True:
        frame = _parsed(await receive())
        if _belongs(frame, wanted):
            frames.append(frame)
            if frame["final"] is True:
                return Outcome(req_id, tuple(frames))


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
        protocol_version: 1 (the default) as a client that offers ``beeflow.v1``; 0 for the frames a
            0.3.0 client receives (no ``final``; :meth:`call` then needs protocol v1).
        expires_at: When the connection's credentials expire, and ``refresh`` the hook that checks a
            fresh token (see :mod:`beeflow_websocket.core.guardrails.expiry`); by default they never do.
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
        protocol_version: ProtocolVersion = 1,
        expires_at: Expiry = None,
        refresh: Refresh | None = None,
    ) -> None:
        self.connections = connections if connections is not None else LocalConnections()
        self.raw_frames: list[str] = []
        self.closed_with: tuple[int, str] | None = None
        """The close code and reason, when the server closed the connection."""
        self._server_closed: asyncio.Future[tuple[int, str]] | None = None
        self._ended: dict[str, asyncio.Future[Outcome]] = {}
        self._collected: dict[str, list[Frame]] = {}
        self._lifecycle = ConnectionLifecycle(
            _MemoryTransport(self),
            delivery=delivery if delivery is not None else self.connections,
            connections=self.connections,
            websocket_id=websocket_id or f"test.{uuid4().hex}",
            user_id=user_id,
            path=path,
            settings=settings,
            protocol_version=protocol_version,
            expires_at=expires_at,
            refresh=refresh,
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
        msg_id: UUID | None = None,
    ) -> UUID:
        """Send an action envelope and wait until the server has answered it.

        Returns:
            The request's ``req_id``, to match the frames that answer it.
        """
        req_id = await self.start(action, payload, req_id=req_id, msg_id=msg_id)
        await self.dispatcher.wait_idle()
        return req_id

    async def start(
        self,
        action: str,
        payload: Mapping[str, JsonValue] | None = None,
        *,
        req_id: UUID | None = None,
        msg_id: UUID | None = None,
    ) -> UUID:
        """Send an action envelope without waiting for the request to end; see :meth:`outcome`.

        ``msg_id`` and ``req_id`` are fresh unless given: give the ones of an earlier request to send
        it again, as a client does after a lost connection (see ``retry_window``).
        """
        req_id = req_id or uuid4()
        self._watch(req_id)
        envelope = {
            "msg_id": str(msg_id or uuid4()),
            "req_id": str(req_id),
            "action": action,
            "payload": payload or {},
        }
        await self.open()
        await self.dispatcher.receive(to_json(envelope).decode())
        return req_id

    async def call(self, action: str, payload: Mapping[str, JsonValue] | None = None) -> Outcome:
        """Send an action and return its outcome once its terminal frame has been received.

        Like a real client it waits as long as the request runs: bound it with ``asyncio.timeout``.
        """
        return await self.outcome(await self.start(action, payload))

    async def outcome(self, req_id: UUID) -> Outcome:
        """Wait until request ``req_id`` (sent by :meth:`start` or :meth:`send`) has ended.

        Raises:
            RuntimeError: The connection does not speak protocol v1, whose terminal frames this needs.
            KeyError: This client sent no request ``req_id``.
        """
        if self.dispatcher.protocol.version != 1:
            raise RuntimeError("outcomes need protocol v1; this client was made with protocol_version=0")
        ended = self._ended.get(str(req_id))
        if ended is None:
            raise KeyError(f"no request {req_id} was sent by this client")
        return await asyncio.shield(ended)

    async def cancel(self, req_id: UUID) -> Outcome:
        """Cancel request ``req_id`` with ``beeflow.cancel``; the outcome of the cancel itself."""
        return await self.call(CANCEL_ACTION, {"req_id": str(req_id)})

    async def refresh(self, token: str) -> Outcome:
        """Renew the credentials with ``beeflow.refresh``: ``beeflow.complete``, or ``token_refused``."""
        return await self.call(REFRESH_ACTION, {"token": token})

    async def ping(self) -> Outcome:
        """Send ``beeflow.ping``; its outcome is a ``beeflow.complete``."""
        return await self.call(PING_ACTION)

    def _watch(self, req_id: UUID) -> None:
        key = str(req_id)
        self._ended[key] = asyncio.get_running_loop().create_future()
        self._collected[key] = []

    def _received(self, text: str) -> None:
        self.raw_frames.append(text)
        if not self._ended:
            return
        frame: Frame = from_json(text)
        key = frame.get("req_id")
        if not isinstance(key, str) or "final" not in frame or key not in self._collected:
            return
        self._collected[key].append(frame)
        if frame["final"] is True:
            ended = self._ended[key]
            if not ended.done():
                ended.set_result(Outcome(UUID(key), tuple(self._collected.pop(key))))

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

    async def closed_by_server(self) -> tuple[int, str]:
        """The code and reason the server closed the connection with, once it has.

        A server closes in a task of its own; like a real client this waits as long as that takes:
        bound it with ``asyncio.timeout``.
        """
        if self.closed_with is not None:
            return self.closed_with
        if self._server_closed is None:
            self._server_closed = asyncio.get_running_loop().create_future()
        return await asyncio.shield(self._server_closed)

    def _closed_by_server(self, code: int, reason: str) -> None:
        self.closed_with = (code, reason)
        if self._server_closed is not None and not self._server_closed.done():
            self._server_closed.set_result(self.closed_with)

    async def close(self) -> None:
        """Disconnect: running actions are stopped, and other connections can no longer reach this one."""
        await self.open()  # one that never opened ends the same way: forgotten and closed
        await self._open.aclose()


class _MemoryTransport:
    """Keeps what the server sends to one test client."""

    def __init__(self, client: ActionTestClient) -> None:
        self._client = client

    async def send(self, frame: str) -> None:
        self._client._received(frame)

    async def close(self, code: int, reason: str) -> None:
        client = self._client
        client._closed_by_server(code, reason)
        # As a served connection is once its server has closed it: no longer reachable.
        client.connections.discard(client.dispatcher)
