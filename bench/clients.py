"""How the load generator speaks to each contender: the closest equivalent of one ``health`` round trip.

Every contender gets the same kind of client, a ``websockets`` connection, so that differences in
the numbers come from the servers. Each wire protocol knows its handshake (Socket.IO has one), how to
ask for ``health`` and how to recognise the answer.
"""

from __future__ import annotations

import itertools
import json
from typing import Any, ClassVar
from uuid import uuid4

from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol


class Wire:
    """Beeflow's envelope; the raw echo and the hand-written JSON routes answer the same request."""

    name: ClassVar[str] = "beeflow"
    subprotocols: ClassVar[tuple[str, ...]] = ()
    """What the handshake offers."""

    def __init__(self) -> None:
        self.counter = itertools.count(1)

    async def open(self, url: str) -> ClientConnection:
        offered = [Subprotocol(name) for name in self.subprotocols] or None
        return await connect(url, max_size=None, compression=None, subprotocols=offered)

    def headers(self) -> dict[str, str]:
        """The handshake's extra headers, for the load generator's client."""
        return {"Sec-WebSocket-Protocol": ", ".join(self.subprotocols)} if self.subprotocols else {}

    def request(self, action: str = "health", payload: dict[str, Any] | None = None) -> str:
        return json.dumps(
            {"msg_id": str(uuid4()), "req_id": str(uuid4()), "action": action, "payload": payload or {}}
        )

    async def answer(self, ws: ClientConnection) -> str:
        """The next frame that answers a request (protocol housekeeping is handled on the way)."""
        frame = await ws.recv()
        assert isinstance(frame, str)
        return frame

    async def round_trip(self, ws: ClientConnection) -> None:
        await ws.send(self.request())
        await self.answer(ws)

    # The load generator's hooks (``loadgen``): the same protocol, frame by frame, with no coroutines.

    def url(self, url: str) -> str:
        """Where the WebSocket connects."""
        return url

    def greeting(self, frame: str | None) -> tuple[str | None, bool]:
        """A step of the protocol's own handshake once the WebSocket is open.

        Given the last frame received (``None`` right after opening): what to send, if anything, and
        whether the connection is ready for requests.
        """
        return None, True

    def housekeeping(self, frame: str) -> str | None:
        """The reply to a frame that is not an answer (a ping), or ``None`` when it is the answer."""
        return None


class BeeflowV1(Wire):
    """Beeflow's protocol v1: ``health`` is still answered by one frame, marked final."""

    name = "beeflow-v1"
    subprotocols = ("beeflow.v1",)


class DjangoChannelsRestFramework(Wire):
    """``AsyncAPIConsumer`` with an ``@action()``: ``{"action", "request_id"}`` in, one reply out."""

    name = "dcrf"

    def request(self, action: str = "health", payload: dict[str, Any] | None = None) -> str:
        return json.dumps({"action": action, "request_id": next(self.counter), **(payload or {})})


class Chanx(Wire):
    """A chanx consumer whose ``@ws_handler`` returns its reply: ``{"action", "payload"}`` both ways."""

    name = "chanx"

    def request(self, action: str = "health", payload: dict[str, Any] | None = None) -> str:
        return json.dumps({"action": action, "payload": payload or {}})


class SocketIO(Wire):
    """Socket.IO 5 over Engine.IO 4, WebSocket transport only: an event with an acknowledgement.

    Spoken directly rather than through python-socketio's client, which would cost the load
    generator more than the server it measures.
    """

    name = "socket.io"

    def url(self, url: str) -> str:
        return f"{url}?EIO=4&transport=websocket"

    def greeting(self, frame: str | None) -> tuple[str | None, bool]:
        if frame is not None and frame.startswith("40"):
            return None, True  # the namespace is connected
        if frame is not None and frame.startswith("0"):
            return "40", False  # Engine.IO is open: connect to the default namespace
        return None, False

    def housekeeping(self, frame: str) -> str | None:
        return "3" if frame == "2" else None

    async def open(self, url: str) -> ClientConnection:
        ws = await connect(self.url(url), max_size=None, compression=None)
        opened = await ws.recv()
        assert isinstance(opened, str), opened
        assert opened.startswith("0"), opened
        await ws.send("40")
        connected = await self.answer(ws)
        assert connected.startswith("40"), connected
        return ws

    def request(self, action: str = "health", payload: dict[str, Any] | None = None) -> str:
        return f"42{next(self.counter)}" + json.dumps([action, payload or {}])

    async def answer(self, ws: ClientConnection) -> str:
        while True:
            frame = await ws.recv()
            assert isinstance(frame, str)
            if frame == "2":  # Engine.IO ping: answer it and keep waiting
                await ws.send("3")
                continue
            return frame


WIRES: dict[str, type[Wire]] = {
    wire.name: wire for wire in (Wire, BeeflowV1, DjangoChannelsRestFramework, Chanx, SocketIO)
}
