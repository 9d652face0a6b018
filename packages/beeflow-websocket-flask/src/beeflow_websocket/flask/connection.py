"""``handle_beeflow_websocket``: one Flask-Sock connection, served by the core dispatcher."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from typing import Final
from uuid import uuid4

from flask import current_app, request
from simple_websocket import ConnectionClosed

from beeflow_websocket.core.access_token import read_access_token, split_subprotocol_header
from beeflow_websocket.core.action_registry import UserId
from beeflow_websocket.core.dispatcher import ConnectionDispatcher
from beeflow_websocket.flask._transport import FlaskSockTransport, FlaskSockWebSocket
from beeflow_websocket.flask.configuration import adapter_state

__all__ = ["FlaskSockWebSocket", "get_access_token", "handle_beeflow_websocket"]

logger: Final = logging.getLogger(__name__)


class _Inbox:
    """Frames on their way from the connection's thread to the event loop, in order.

    The thread hands a frame over and goes back to reading without waiting for the loop, so it
    notices a disconnect while an action runs; it waits only while ``limit`` frames are still on
    their way, which passes the dispatcher's backpressure on to a flooding client. On the loop, one
    drainer at a time passes the frames to the dispatcher, started eagerly, so a frame whose action
    never waits is answered within the loop's one wake-up.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, dispatcher: ConnectionDispatcher, limit: int) -> None:
        self._loop = loop
        self._dispatcher = dispatcher
        self._limit = limit
        self._frames: deque[str | bytes] = deque()
        self._lock = threading.Lock()
        self._room = threading.Condition(self._lock)
        self._draining = False
        self._tasks: set[asyncio.Task[None]] = set()

    def put(self, frame: str | bytes) -> None:
        """From the connection's thread: queue a frame, waiting while ``limit`` are on their way."""
        with self._room:
            while len(self._frames) >= self._limit:
                self._room.wait()
            self._frames.append(frame)
            if self._draining:
                return
            self._draining = True
        self._loop.call_soon_threadsafe(self._start_draining)

    def _start_draining(self) -> None:
        task = asyncio.Task(self._drain(), loop=self._loop, eager_start=True)
        if not task.done():
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _drain(self) -> None:
        while True:
            with self._room:
                if not self._frames:
                    self._draining = False
                    return
                frame = self._frames.popleft()
                self._room.notify()
            await self._dispatcher.receive(frame)


def get_access_token() -> str | None:
    """Return the token the current WebSocket request offered after the ``access-token`` subprotocol.

    For the application's authentication, inside a Flask-Sock route.
    """
    return read_access_token(split_subprotocol_header(request.headers.get("Sec-WebSocket-Protocol")))


def handle_beeflow_websocket(
    websocket: FlaskSockWebSocket,
    *,
    user_id: UserId,
    websocket_id: str | None = None,
) -> None:
    """Dispatch the connection's frames until the client leaves; call it inside a Flask-Sock route.

    Frames are handed to the application's event loop, where the connection's actions run; this
    thread goes back to reading at once, so it notices a disconnect while an action still runs (and
    stops it). Returns normally when the client disconnects.

    Args:
        websocket: The connection object Flask-Sock passes to the route function.
        user_id: The authenticated user's id, from the application's own authentication.
        websocket_id: The connection id; a random UUID by default. It must be unique among the
            application's live connections.
    """
    state = adapter_state(current_app)
    transport = FlaskSockTransport(websocket)
    dispatcher = ConnectionDispatcher(
        transport,
        delivery=state.delivery,
        websocket_id=websocket_id or str(uuid4()),
        user_id=user_id,
        path=request.path,
        settings=state.settings,
    )
    state.connections.add(dispatcher)
    inbox = _Inbox(state.bridge.loop, dispatcher, state.settings.max_pending_messages)
    try:
        state.bridge.run(dispatcher.open())
        while True:
            frame = websocket.receive()
            if frame is not None:
                inbox.put(frame)
    except ConnectionClosed:
        logger.debug("connection %s closed", dispatcher.websocket_id)
    finally:
        state.connections.discard(dispatcher)
        state.bridge.run(dispatcher.close())
        transport.shutdown()
