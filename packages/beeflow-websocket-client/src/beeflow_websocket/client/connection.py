"""The client: one connection at a time, kept open across losses, and the requests made over it.

One task owns the connection's life: it fetches a token, connects offering ``beeflow.v1`` (and
``access-token`` with the token, never in the URL), reads frames until the connection goes (a
:mod:`~beeflow_websocket.client.heartbeat` beside it), and then waits a full-jitter backoff before
the next attempt. Requests are independent of that task: made while offline they wait in a bounded
queue, each bound by its own timeout, and are sent once a connection opens; in flight when it goes,
they fail with :class:`ConnectionLost`, since the client cannot know whether they ran. Those made
with ``retry`` are sent again instead, unchanged, on the next connection: the server (with its
``retry_window``) knows them by their ``msg_id`` and runs none twice (``duplicate_request``).

Events of streams that keep a history carry their position; the client keeps the last one of each
stream (:mod:`~beeflow_websocket.client.positions`) and, on every reconnect, first lets the
application re-join its groups (``before_resume``), then sends ``beeflow.resume``: what the streams
sent meanwhile arrives once and in order, or ``on_resync_needed`` names the streams to reload.
Requests made before the resume is sent wait for it, so that none runs before the groups it may
rely on are joined again (those sent again go first); the close code 4410 (the server could not
fill a gap) is a loss like any other, followed by a reconnect and a resume.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import enum
import itertools
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable, Mapping
from types import TracebackType
from typing import Any, Final, Literal, Self

from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as websocket_connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.typing import Origin, Subprotocol

from beeflow_websocket.client._requests import Pending, RequestTable
from beeflow_websocket.client._tokens import GetToken, Tokens
from beeflow_websocket.client._wire import (
    ACCESS_TOKEN,
    CANCEL_ACTION,
    PING_ACTION,
    PROTOCOL_V1,
    REFRESH_ACTION,
    RESUME_ACTION,
    RESUME_BATCH,
    TOKEN_EXPIRING_EVENT,
    UNRECOVERABLE_POSITION,
    envelope,
    json_object,
)
from beeflow_websocket.client.backoff import Backoff
from beeflow_websocket.client.errors import (
    ClientClosed,
    ClientError,
    ConnectionLost,
    ProblemError,
    ProtocolMismatch,
    RequestTimeout,
    Unauthorized,
)
from beeflow_websocket.client.events import EventTypes, ReceivedEvent
from beeflow_websocket.client.heartbeat import DEFAULT_HEARTBEAT, Heartbeat, keep_alive
from beeflow_websocket.client.positions import LostStream, Position, Positions, position_of

__all__ = ["DEFAULT_TIMEOUT", "TERMINAL_CLOSE_CODES", "Client", "Heartbeat", "Status", "connect"]

logger: Final = logging.getLogger("beeflow_websocket.client")

type Status = Literal["connecting", "open", "reconnecting", "closed"]
type Payload = Mapping[str, Any] | None

TERMINAL_CLOSE_CODES: Final = frozenset({1008, 4401, 4403, 4409})
"""Close codes after which reconnecting cannot help: policy violation, authentication or
authorisation refused, kicked. The client closes for good instead of retrying. Not among them:
4410 (missed stream events), after which a reconnect and a resume is exactly what helps."""

_REJOINING: Final = contextvars.ContextVar("beeflow_websocket.client.rejoining", default=False)
"""Set in the task that re-joins groups and resumes: its requests go out while others wait."""

_CLOSE_TIMEOUT: Final = 2.0
"""Seconds :meth:`Client.close` waits for the server's closing handshake before dropping the connection."""


class _Default(enum.Enum):
    TIMEOUT = enum.auto()


DEFAULT_TIMEOUT: Final = _Default.TIMEOUT
"""A request's timeout when it names none: the client's ``request_timeout``."""


class Client:
    """A protocol v1 client that reconnects, with requests, streams, cancel and pushes.

    Use :func:`connect` (``async with connect(url, token=...) as client``), or :meth:`start` and
    :meth:`close` yourself.

    Args:
        url: The WebSocket URL (``ws://`` or ``wss://``).
        token: A fixed access token; prefer ``get_token`` for tokens that expire.
        get_token: Called before every connection attempt, and when the server says the token
            expires soon (``beeflow.token_expiring``: the fresh one is sent with
            ``beeflow.refresh``, and the connection stays); returning ``None`` or raising
            :class:`Unauthorized` means there is no user: the client closes.
        origin: The ``Origin`` header to send (servers that check it refuse a handshake without).
        events: The application's event classes: their payloads arrive as their models.
        backoff: Waits between connection attempts.
        heartbeat: The ping interval and timeout; ``None``: no heartbeat.
        request_timeout: Seconds a :meth:`request` waits for its terminal frame by default.
        connect_timeout: Seconds a connection attempt may take before it is abandoned.
        queue_limit: How many requests may wait while offline.
        on_gap: Called with the expected and the received ``seq`` when frames went missing.
        on_problem: Called with each problem that ends no request of the application (an unreadable
            frame's, a ``final: false`` one, a failed resume's); by default they are logged at WARNING.
        max_size: The largest frame accepted, in bytes; ``None``: any.
        before_resume: Awaited on every reconnect before the client resumes its streams, with the
            client: re-join the groups here (with the same requests that joined them), since a
            resume recovers only the streams the new connection is in. Its requests go out at once;
            the application's other requests wait until ``beeflow.resume`` is sent. When it fails,
            the failure is logged and the resume follows all the same.
        on_resync_needed: Called with the streams a resume could not recover (:class:`LostStream`):
            reload what they show; the client goes on from the position each names.
    """

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        get_token: GetToken | None = None,
        origin: str | None = None,
        events: Iterable[type] = (),
        backoff: Backoff | None = None,
        heartbeat: Heartbeat | None = DEFAULT_HEARTBEAT,
        request_timeout: float = 10.0,
        connect_timeout: float = 10.0,
        queue_limit: int = 100,
        on_gap: Callable[[int, int], None] | None = None,
        on_problem: Callable[[ProblemError], None] | None = None,
        max_size: int | None = 16 * 1024 * 1024,
        before_resume: Callable[[Client], Awaitable[None]] | None = None,
        on_resync_needed: Callable[[list[LostStream]], object] | None = None,
    ) -> None:
        self.url = url
        self._tokens = Tokens(token, get_token)
        self._origin = origin
        self._types = EventTypes(events)
        self._backoff = backoff or Backoff()
        self._heartbeat = heartbeat
        self._request_timeout = request_timeout
        self._connect_timeout = connect_timeout
        self._on_gap = on_gap
        self._on_problem = on_problem
        self._max_size = max_size
        self._requests = RequestTable(queue_limit)
        self._listeners: dict[str, list[Callable[[ReceivedEvent], object]]] = {}
        self._status_listeners: list[Callable[[Status], object]] = []
        self._status: Status = "connecting"
        self._status_changed = asyncio.Event()
        self._socket: ClientConnection | None = None
        self._runner: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()
        self._last_seq = 0
        self._received_at = 0.0
        self.close_code: int | None = None
        """The close code of the last connection the server closed; ``None`` before any."""
        self.closed_because: BaseException | None = None
        """Why the client closed for good, when it was not :meth:`close`."""
        self._before_resume = before_resume
        self._on_resync_needed = on_resync_needed
        self._positions: Positions[ReceivedEvent] = Positions()
        self._opened_before = False
        self._gate: ClientConnection | None = None  # the connection whose requests wait for its resume
        self.recovered: bool | None = None
        """Whether the last resume recovered every stream (``False`` when some must be reloaded,
        see ``on_resync_needed``, or the resume failed); ``None`` before any."""

    @property
    def positions(self) -> dict[str, Position]:
        """The last position of each stream handed to the application, by stream name (a copy)."""
        return self._positions.snapshot()

    # The connection's life.

    @property
    def status(self) -> Status:
        """``connecting`` (the first attempt), ``open``, ``reconnecting`` or ``closed``."""
        return self._status

    def on_status(self, listener: Callable[[Status], object]) -> Callable[[], None]:
        """Call ``listener`` with each new status; returns what unsubscribes it."""
        self._status_listeners.append(listener)
        return lambda: self._status_listeners.remove(listener)

    def start(self) -> None:
        """Start connecting in the background; requests made before it opens wait for it."""
        if self._runner is None:
            self._runner = asyncio.get_running_loop().create_task(self._run())

    async def wait_status(self, status: Status, timeout: float | None = None) -> None:  # noqa: ASYNC109
        """Wait until the client's status is ``status``.

        Raises:
            TimeoutError: Not within ``timeout`` seconds.
            ClientClosed: The client closed for good while waiting for another status.
        """
        async with asyncio.timeout(timeout):
            while self._status != status:
                if self._status == "closed":
                    raise ClientClosed("the client is closed") from self.closed_because
                self._status_changed.clear()
                await self._status_changed.wait()

    async def close(self) -> None:
        """Close the connection and the client; every request not yet ended fails with ClientClosed."""
        if self._status == "closed" and self._runner is None:
            return
        runner, self._runner = self._runner, None
        self._set_status("closed")
        self._requests.close(ClientClosed("the client was closed"))
        socket = self._socket
        if socket is not None:
            try:
                await asyncio.wait_for(socket.close(), _CLOSE_TIMEOUT)
            except TimeoutError:
                socket.transport.abort()
        if runner is not None:
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await runner
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)

    async def __aenter__(self) -> Self:
        self.start()
        await self.wait_status("open", self._connect_timeout)
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.close()

    async def _run(self) -> None:
        attempt = 0
        while True:
            try:
                token = await self._tokens.fresh()
            except Unauthorized as refused:
                self._end_for_good(refused)
                return
            except Exception:
                logger.warning("the token source failed; retrying", exc_info=True)
            else:
                opened = await self._connect_once(token)
                if self._status == "closed":
                    return
                if opened:
                    attempt = 0
            self._set_status("reconnecting")
            await asyncio.sleep(self._backoff.delay(attempt))
            attempt += 1

    async def _connect_once(self, token: str | None) -> bool:
        """One connection, from handshake to loss; whether it opened."""
        offered = [Subprotocol(PROTOCOL_V1)]
        if token is not None:
            offered += [Subprotocol(ACCESS_TOKEN), Subprotocol(token)]
        try:
            socket = await websocket_connect(
                self.url,
                subprotocols=offered,
                origin=Origin(self._origin) if self._origin else None,
                open_timeout=self._connect_timeout,
                ping_interval=None,  # the heartbeat is beeflow.ping, the same in every client
                max_size=self._max_size,
            )
        except (OSError, TimeoutError, InvalidHandshake) as failure:
            # A refused handshake looks like an outage to a browser; both are retried, each
            # attempt with a fresh token, never in a tight loop.
            logger.info("connecting to %s failed: %s", self.url, failure)
            return False
        if socket.subprotocol != PROTOCOL_V1:
            await socket.close()
            selected = socket.subprotocol
            self._end_for_good(ProtocolMismatch(f"the server selected {selected!r}, not beeflow.v1"))
            return True
        self._socket = socket
        self._last_seq = 0
        self._received_at = asyncio.get_running_loop().time()
        heartbeat = None
        if self._heartbeat is not None:

            async def ping() -> None:
                await self._write(socket, envelope(PING_ACTION, {}))

            heartbeat = self._spawn(keep_alive(socket, self._heartbeat, lambda: self._received_at, ping))
        self._set_status("open")
        reconnect, self._opened_before = self._opened_before, True
        positions = self._positions.resumable()
        if reconnect and (self._before_resume is not None or positions):
            self._gate = socket
            if positions:
                self._positions.hold()  # from the first frame: a live event must not pass a missed one
            self._spawn(self._resume(socket, positions))
        else:
            await self._send_waiting(socket)
        try:
            async for message in socket:
                self._received(message)
        except ConnectionClosed:
            pass
        finally:
            self._socket = None
            self._gate = None
            if heartbeat is not None:
                heartbeat.cancel()
            self.close_code = socket.close_code
            self._requests.lose(
                ConnectionLost(f"the connection closed ({socket.close_code})"),
                for_good=socket.close_code in TERMINAL_CLOSE_CODES,
            )
            self._hand_over_held()  # a resume cut short: what came is the application's all the same
        if socket.close_code in TERMINAL_CLOSE_CODES:
            code, reason = socket.close_code, socket.close_reason
            said = f"{code}: {reason}" if reason else str(code)
            self._end_for_good(ClientClosed(f"the server closed the connection for good ({said})"))
        return True

    def _end_for_good(self, reason: ClientError) -> None:
        logger.warning("the client closes for good: %s", reason)
        self.closed_because = reason
        self._set_status("closed")
        self._requests.close(ClientClosed(str(reason)))

    def _set_status(self, status: Status) -> None:
        if status == self._status:
            return
        self._status = status
        self._status_changed.set()
        for listener in list(self._status_listeners):
            self._call(listener, status)

    # Frames.

    def _received(self, message: str | bytes) -> None:
        self._received_at = asyncio.get_running_loop().time()
        try:
            frame = json.loads(message)
        except ValueError:
            logger.warning("dropped a frame that is not JSON: %.100r", message)
            return
        if not isinstance(frame, dict):
            logger.warning("dropped a frame that is not a JSON object: %.100r", message)
            return
        seq = frame.get("seq")
        if isinstance(seq, int):
            if seq != self._last_seq + 1 and self._on_gap is not None:
                self._call(self._on_gap, self._last_seq + 1, seq)
            self._last_seq = seq
        event = self._types.read(frame) if "event" in frame else None
        if event is not None and (position := position_of(frame.get("stream"))) is not None:
            if frame.get("final") is not None:
                self._positions.passed(position)  # a request's own copy: a replay of it is dropped
            elif self._positions.judge(position, event) != "deliver":
                return
        if self._requests.take(frame, event):
            return
        if event is None:
            problem = ProblemError(frame)
            if self._on_problem is not None:
                self._call(self._on_problem, problem)
            else:
                logger.warning("the server sent a problem: %s", problem)
            return
        self._hear(event)

    def _hear(self, event: ReceivedEvent) -> None:
        """An event that answers none of this client's requests: to its listeners."""
        if event.event == TOKEN_EXPIRING_EVENT and self._tokens.renewable:
            self._spawn(self._renew())
        for listener in (*self._listeners.get(event.event, ()), *self._listeners.get("*", ())):
            self._call(listener, event)

    async def _resume(self, socket: ClientConnection, positions: list[Position]) -> None:
        """After a reconnect: re-join (``before_resume``), send ``beeflow.resume``, then let requests go.

        Runs beside the reader, which must read the answers. Positioned events are held from the
        open until the resume has ended; requests made meanwhile wait only until it is sent.
        """
        rejoining = _REJOINING.set(True)
        try:
            if self._before_resume is not None:
                try:
                    await self._before_resume(self)
                except Exception:
                    if self._status != "closed":  # closed meanwhile: its requests failed, which says nothing
                        logger.warning(
                            "before_resume failed; the streams are resumed all the same", exc_info=True
                        )
            resumes: list[Pending] = []
            for batch in itertools.batched(positions, RESUME_BATCH):
                if not self._on(socket):
                    return
                streams = [position.wire() for position in batch]
                resumes.append(await self._begin(RESUME_ACTION, {"streams": streams}))
            if not self._on(socket):
                return  # lost meanwhile: what was held went out then, and the next connection resumes
        finally:
            _REJOINING.reset(rejoining)
            if self._gate is socket:
                self._gate = None
        await self._send_waiting(socket)  # after beeflow.resume: its events come first
        if resumes:
            await self._resumed(socket, resumes)

    def _on(self, socket: ClientConnection) -> bool:
        """Whether ``socket`` is still the client's connection (the client neither lost it nor closed)."""
        return self._socket is socket and self._status != "closed"

    async def _resumed(self, socket: ClientConnection, resumes: list[Pending]) -> None:
        """Await the resume's end: set :attr:`recovered`, report lost streams, hand out what was held."""
        lost: list[LostStream] = []
        failures: list[ClientError] = []
        for pending in resumes:
            try:
                await self._answer(pending, self._request_timeout)
            except ProblemError as problem:
                if problem.code == UNRECOVERABLE_POSITION:
                    lost += self._positions.lost(problem.problem.get("streams") or ())
                else:
                    failures.append(problem)
            except ClientError as error:
                failures.append(error)
        if self._status == "closed":
            return
        self.recovered = not lost and not failures
        for failure in failures:
            self._report(failure)
        if lost and self._on_resync_needed is not None:
            self._call(self._on_resync_needed, lost)
        if self._on(socket):
            self._hand_over_held()

    def _hand_over_held(self) -> None:
        """Stop holding positioned events: each stream's to the listeners, in offset order, once."""
        held = self._positions.release()
        if self._status == "closed":
            return
        for event in held:
            self._hear(event)

    def _report(self, failure: ClientError) -> None:
        """A resume failed (its positions stay, and the next reconnect resumes again): say so."""
        if isinstance(failure, ProblemError) and self._on_problem is not None:
            self._call(self._on_problem, failure)
        else:
            logger.warning("the streams could not be resumed: %s", failure)

    async def _renew(self) -> None:
        """The server says the token expires soon: send a fresh one (``beeflow.refresh``).

        Should it fail, the server closes the connection once the token has expired (4440), and the
        client connects again as after any other close: with a fresh token, or, when the source has
        no user any more, not at all (the usual end for good, in one place).
        """
        try:
            token = await self._tokens.fresh()
            await self.request(REFRESH_ACTION, {"token": token})
        except Exception:
            logger.warning(
                "the token could not be renewed; the server will close the connection", exc_info=True
            )

    def _call(self, listener: Callable[..., object], *arguments: Any) -> None:
        """A listener's failure is its own: logged, never in the way of the next frame."""
        try:
            listener(*arguments)
        except Exception:
            logger.exception("a listener failed on %r", arguments)

    def on(self, event: str, listener: Callable[[ReceivedEvent], object]) -> Callable[[], None]:
        """Call ``listener`` with each event ``event`` that answers none of this client's requests.

        These are pushes and the events other connections' requests send here; ``"*"`` hears them
        all. Returns what unsubscribes it.
        """
        listeners = self._listeners.setdefault(event, [])
        listeners.append(listener)
        return lambda: listeners.remove(listener)

    # Requests.

    async def request(
        self,
        action: str,
        payload: Payload = None,
        *,
        timeout: float | _Default | None = DEFAULT_TIMEOUT,  # noqa: ASYNC109 - per request, as httpx has it
        retry: bool = False,
    ) -> list[ReceivedEvent]:
        """Send a request and return its events once its terminal frame has arrived.

        Args:
            action: The action's name.
            payload: Its payload (a mapping, or a pydantic model); ``{}`` by default.
            timeout: Seconds to wait for the terminal frame (``request_timeout`` by default;
                ``None``: no limit), reconnects included. Past it the request is cancelled on
                the server, or, waiting to be sent again, just dropped.
            retry: Lost with its connection, send it again, unchanged, on the next one instead of
                failing with :class:`ConnectionLost`: for a server with ``retry_window``, which
                runs no request twice. The events of every attempt are returned.

        Raises:
            ProblemError: The server ended the request with a problem (``duplicate_request``,
                with its ``outcome``, when it had started it already).
            RequestTimeout: No terminal frame within ``timeout``.
            ConnectionLost: The connection went while it was in flight (with ``retry``: and no
                reconnect follows).
            QueueFull: Offline, with ``queue_limit`` requests waiting already.
            ClientClosed: The client is closed.
        """
        limit = self._request_timeout if isinstance(timeout, _Default) else timeout
        return await self._answer(await self._begin(action, payload, retry), limit)

    async def stream(
        self, action: str, payload: Payload = None, *, retry: bool = False
    ) -> AsyncIterator[ReceivedEvent]:
        """Send a request and yield its events as they arrive, until its terminal frame.

        Leaving the loop early (``break``, an exception, the task cancelled) cancels the request
        on the server. Raises as :meth:`request` does, with no timeout of its own; ``retry`` is
        :meth:`request`'s, and the new attempt's events follow those already yielded.
        """
        pending = await self._begin(action, payload, retry)
        try:
            while (event := await pending.next()) is not None:
                yield event
        finally:
            self._give_up(pending)

    async def _answer(self, pending: Pending, limit: float | None) -> list[ReceivedEvent]:
        """The events of a request begun, once its terminal frame has arrived (see :meth:`request`)."""
        events: list[ReceivedEvent] = []
        try:
            async with asyncio.timeout(limit):
                while (event := await pending.next()) is not None:
                    events.append(event)
        except TimeoutError:
            self._give_up(pending)
            action = pending.envelope["action"]
            raise RequestTimeout(f"{action!r} had no answer within {limit} s") from None
        except asyncio.CancelledError:
            self._give_up(pending)
            raise
        return events

    async def _begin(self, action: str, payload: Payload, retry: bool = False) -> Pending:
        if self._status == "closed":
            raise ClientClosed("the client is closed") from self.closed_because
        pending = Pending(envelope(action, json_object(payload)), retry=retry)
        online = self._socket is not None and (self._gate is None or _REJOINING.get())
        self._requests.add(pending, online=online)
        if online:
            await self._send(pending)
        return pending

    async def _send_waiting(self, socket: ClientConnection) -> None:
        """Send the requests that waited for ``socket``, one at a time while it stays the client's.

        A connection lost halfway leaves the rest waiting for the next one; those sent on it are
        the reader's to fail, or to line up again.
        """
        while self._on(socket) and (pending := self._requests.next_waiting()) is not None:
            await self._send(pending)

    async def _send(self, pending: Pending) -> None:
        socket = self._socket
        if socket is None:
            return  # lost meanwhile: it fails with the connection, or was never registered as sent
        pending.sent = True
        await self._write(socket, pending.envelope)

    async def _write(self, socket: ClientConnection, frame: Mapping[str, Any]) -> None:
        with contextlib.suppress(ConnectionClosed):  # the reader notices, and the requests fail
            await socket.send(json.dumps(frame))

    def _give_up(self, pending: Pending) -> None:
        """Its caller left before its end: stop it on the server when it was sent there.

        One waiting to be sent (again) is only taken out of its line: the connection open now never
        saw it, so there is nothing to cancel.
        """
        self._requests.forget(pending)
        socket = self._socket
        if pending.done or not pending.sent or socket is None:
            return
        pending.done = True
        self._spawn(self._write(socket, envelope(CANCEL_ACTION, {"req_id": pending.req_id})))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task


connect: Final = Client
"""``async with connect(url, token=...) as client``: connected once the first connection is open
(within ``connect_timeout``, else ``TimeoutError``), closed on exit. The same as :class:`Client`."""
