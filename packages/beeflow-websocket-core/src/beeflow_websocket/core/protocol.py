"""The request protocol of one connection, as pure decisions: no I/O, no event loop, no tasks.

A :class:`ConnectionProtocol` turns what arrives into what to do, and what to send into frames: a
frame from the client becomes a :class:`Request` to run or a :class:`Rejection` to answer; an event
for this connection becomes a frame with the next ``seq``; a problem becomes an error frame. It
owns the connection's state and ``seq``, the only counter of frames, so the runtime around it
(:mod:`beeflow_websocket.core.dispatcher`) only schedules and moves frames. Being synchronous, it is
tested frame by frame without an event loop, and importing it loads no ``asyncio``.

The state only moves forward, ``OPEN`` to ``CLOSING`` to ``CLOSED``: a connection that is closing
is sent nothing more, and a caller that tries is told which state it expected and which it found.

A connection that negotiated protocol v1 (:mod:`beeflow_websocket.core.negotiation`) also gets the
v1 rules here: a frame naming ``beeflow.cancel``, ``beeflow.ping``, ``beeflow.refresh`` or
``beeflow.resume`` becomes a :class:`Cancel`, a :class:`Ping`, a :class:`Refresh` or a
:class:`Resume`, and every request ends with exactly one frame
marked ``"final": true``. Whether an event is a request's last is known only when it is written, so
the request's own events are numbered
and marked then (:class:`OwnEvent`); a request whose last event was already written when its action
ended ends with a :class:`Completion`, the ``beeflow.complete`` event.
"""

from __future__ import annotations

import enum
import logging
from typing import TYPE_CHECKING, Final, NamedTuple
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from beeflow_websocket.core._wire import (
    decode_object,
    encode_completion,
    encode_problem,
    quoted,
    read_req_id,
    stamp,
    stamp_final,
    stamp_positioned,
    validate_envelope,
    validate_payload,
)
from beeflow_websocket.core.action_registry import ActionRegistryMeta
from beeflow_websocket.core.exceptions import ActionDoesNotExist, BeeflowWebSocketError
from beeflow_websocket.core.history.positions import StreamPosition
from beeflow_websocket.core.payloads import WebSocketActionPayload
from beeflow_websocket.core.problems import (
    InternalError,
    InvalidMessage,
    MessageTooLarge,
    UnknownAction,
    WebSocketProblem,
)
from beeflow_websocket.core.settings import DEFAULT_SETTINGS, DispatcherSettings
from beeflow_websocket.core.transport import OutboundEvent

if TYPE_CHECKING:
    from beeflow_websocket.core.negotiation import ProtocolVersion

__all__ = [
    "CANCEL_ACTION",
    "COMPLETE_EVENT",
    "PING_ACTION",
    "REFRESH_ACTION",
    "RESUME_ACTION",
    "Cancel",
    "Completion",
    "ConnectionProtocol",
    "ConnectionState",
    "InvalidState",
    "Outgoing",
    "OwnEvent",
    "Ping",
    "Refresh",
    "Rejection",
    "Reply",
    "Request",
    "Resume",
]

CANCEL_ACTION: Final = "beeflow.cancel"
"""v1: stop a running request of the same connection; payload ``{"req_id": <its req_id>}``."""
REFRESH_ACTION: Final = "beeflow.refresh"
"""v1: renew the connection's credentials with a fresh token; payload ``{"token": <token>}``."""
RESUME_ACTION: Final = "beeflow.resume"
"""v1: replay what the connection's streams sent after the client's positions; ``{"streams": [...]}``."""
MAX_RESUMED_STREAMS: Final = 100
"""How many streams one ``beeflow.resume`` may name."""
PING_ACTION: Final = "beeflow.ping"
"""v1: answered at once with ``beeflow.complete``, for clients that cannot see WebSocket pings."""
COMPLETE_EVENT: Final = "beeflow.complete"
"""v1: the terminal frame of a request whose last event was written before its action ended."""

logger: Final = logging.getLogger("beeflow_websocket.core.dispatcher")


class ConnectionState(enum.Enum):
    """Where a connection is in its life; it only moves forward."""

    OPEN = "open"
    """Frames are received and sent."""
    CLOSING = "closing"
    """The client left, stopped reading, or a write failed: nothing more is sent or handled."""
    CLOSED = "closed"
    """Its actions are stopped and it has left its groups."""


_OPEN: Final = ConnectionState.OPEN


class InvalidState(BeeflowWebSocketError):
    """A step was asked of the protocol in a state that does not allow it: a bug in its caller."""

    def __init__(self, expected: ConnectionState, got: ConnectionState) -> None:
        super().__init__(f"expected {expected.name}, got {got.name}")
        self.expected = expected
        self.got = got


# Named tuples rather than frozen dataclasses: one is made per frame, and a frozen dataclass's
# __init__ costs several times as much.
class Request(NamedTuple):
    """A valid request for a registered action: what the runtime runs."""

    action_class: type
    message: WebSocketActionPayload


class Rejection(NamedTuple):
    """A frame that cannot be run, and the problem that answers it (to ``req_id`` when readable)."""

    problem: WebSocketProblem
    req_id: UUID | None


class Cancel(NamedTuple):
    """v1: ``beeflow.cancel`` (request ``req_id``) asks to stop the connection's request ``target``."""

    req_id: UUID
    target: UUID


class Ping(NamedTuple):
    """v1: ``beeflow.ping`` (request ``req_id``), to be answered at once."""

    req_id: UUID


class Refresh(NamedTuple):
    """v1: ``beeflow.refresh`` (request ``req_id``) brings a fresh ``token`` for the connection's user."""

    req_id: UUID
    token: str


class Resume(NamedTuple):
    """v1: ``beeflow.resume`` (request ``req_id``) asks for each stream's events after ``positions``."""

    req_id: UUID
    positions: tuple[StreamPosition, ...]


class _Position(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    epoch: str = Field(min_length=1, max_length=64)
    offset: int = Field(ge=0)


class _ResumePayload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    streams: list[_Position] = Field(max_length=MAX_RESUMED_STREAMS)


class _RefreshPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=1)


class _CancelPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    req_id: UUID


class Reply:
    """What the protocol counts of one v1 request's frames to its own connection.

    Attributes:
        req_id: The request's ``req_id``.
        queued: Its events (and completion) waiting to be written.
        sent: Its event frames written so far: the ``events`` of its completion.
        ended: Its action has ended without a problem: its last queued frame is its terminal one.
    """

    __slots__ = ("ended", "queued", "req_id", "sent")

    def __init__(self, req_id: UUID) -> None:
        self.req_id = req_id  # made text only for a completion: str(UUID) is Python code
        self.queued = 0
        self.sent = 0
        self.ended = False


class OwnEvent(NamedTuple):
    """v1: an event of a request for its own connection, marked ``final`` when it is written."""

    event: OutboundEvent
    reply: Reply


class Completion(NamedTuple):
    """v1: the ``beeflow.complete`` frame that ends a request, numbered when it is written."""

    reply: Reply


type Outgoing = str | OutboundEvent | OwnEvent | Completion
"""What waits to be written: a ready frame, an event from elsewhere, or a v1 request's own frame."""


class ConnectionProtocol:
    """The protocol state and decisions of one connection.

    Args:
        path: The connection path, sent as ``instance`` in error frames.
        settings: The size limit and the problem ``type`` base the frames depend on.
        version: The protocol the handshake negotiated: 0 (0.3.0 frames) or 1.
        websocket_id: The connection's id, the ``recipient_id`` of its completion frames.

    Attributes:
        open: Whether frames are still received and sent (the state is ``OPEN``).
    """

    __slots__ = ("_seq", "_state", "_written", "open", "path", "settings", "version", "websocket_id")

    def __init__(
        self,
        *,
        path: str,
        settings: DispatcherSettings = DEFAULT_SETTINGS,
        version: ProtocolVersion = 0,
        websocket_id: str = "",
    ) -> None:
        self.path = path
        self.settings = settings
        self.version = version
        self.websocket_id = websocket_id
        self._state = ConnectionState.OPEN
        # Whether frames are still received and sent: read for every frame, several times, so a
        # plain attribute kept with the state rather than a property. Read it; never set it.
        self.open = True
        self._seq = 0
        self._written = 0

    @property
    def state(self) -> ConnectionState:
        """Where the connection is in its life."""
        return self._state

    @property
    def seq(self) -> int:
        """The ``seq`` of the last event frame this connection was sent; 0 before the first."""
        return self._seq

    @property
    def written(self) -> int:
        """How many frames have been handed to the transport: progress, for telling a stalled client."""
        return self._written

    def receive(self, frame: str | bytes) -> Request | Rejection | Cancel | Ping | Refresh | Resume:
        """Decide what one frame from the client asks for.

        Checks the size, decodes the JSON, validates the envelope and looks the action up; a frame
        that fails any of them is rejected with the problem that says why, answered to its
        ``req_id`` whenever one can be read. In v1, the reserved actions are recognised here.

        Raises:
            InvalidState: The connection is not open.
        """
        if self._state is not _OPEN:
            raise InvalidState(_OPEN, self._state)
        req_id: UUID | None = None
        try:
            limit = self.settings.max_message_size
            if _exceeds(frame, limit):
                raise MessageTooLarge(f"The message is larger than {limit} bytes.")
            data = decode_object(frame)
            try:
                message = validate_envelope(data)
            except InvalidMessage:
                req_id = read_req_id(data)
                raise
            req_id = message.req_id
            try:
                return Request(ActionRegistryMeta.registry[message.action], message)
            except ActionDoesNotExist:
                # Reserved names are never registered: looked for only once the registry says no.
                if self.version and message.action == CANCEL_ACTION:
                    cancel = validate_payload(_CancelPayload, message)
                    assert isinstance(cancel, _CancelPayload)  # noqa: S101 - what validate_payload returns
                    return Cancel(req_id, cancel.req_id)
                if self.version and message.action == PING_ACTION:
                    return Ping(req_id)
                if self.version and message.action == RESUME_ACTION:
                    resume = validate_payload(_ResumePayload, message)
                    assert isinstance(resume, _ResumePayload)  # noqa: S101 - what validate_payload returns
                    positions = {p.name: StreamPosition(p.name, p.epoch, p.offset) for p in resume.streams}
                    return Resume(req_id, tuple(positions.values()))
                if self.version and message.action == REFRESH_ACTION:
                    refresh = validate_payload(_RefreshPayload, message)
                    assert isinstance(refresh, _RefreshPayload)  # noqa: S101 - what validate_payload returns
                    return Refresh(req_id, refresh.token)
                raise UnknownAction(
                    f"No action is registered under the name {quoted(message.action)}."
                ) from None
        except WebSocketProblem as problem:
            return Rejection(problem, req_id)

    def frame(self, item: Outgoing) -> str:
        """The frame to write now: an event gets the next ``seq``, the only place one is given.

        Numbering at write time keeps ``seq`` in the order the client receives frames, whatever
        order their producers got room in. A v1 request's own event is marked ``final`` here: it is
        its request's terminal frame when the action has ended and nothing of it waits behind it.

        Raises:
            InvalidState: The connection is not open.
        """
        if self._state is not _OPEN:
            raise InvalidState(_OPEN, self._state)
        self._written += 1
        if isinstance(item, str):
            return item
        self._seq += 1
        if isinstance(item, OutboundEvent):
            if item.position is not None and self.version:
                return stamp_positioned(item, self._seq)
            return stamp(item, self._seq)
        reply = item.reply
        reply.queued -= 1
        if isinstance(item, Completion):
            return encode_completion(str(reply.req_id), self._seq, self.websocket_id, events=reply.sent)
        reply.sent += 1
        return stamp_final(item.event, self._seq, reply.ended and not reply.queued)

    def own_frame(self, event: OutboundEvent, reply: Reply, ending: bool = False) -> str:
        """What :meth:`frame` gives for ``OwnEvent(event, reply)``, for an event held without one.

        ``ending``: the request's action has just ended, and this is its last event not yet written:
        what :meth:`end` then this method give, in one call (its terminal frame).

        Raises:
            InvalidState: The connection is not open.
        """
        if self._state is not _OPEN:
            raise InvalidState(_OPEN, self._state)
        if ending:
            reply.ended = True
        self._written += 1
        self._seq += 1
        reply.queued -= 1
        reply.sent += 1
        return stamp_final(event, self._seq, reply.ended and not reply.queued)

    def own(self, reply: Reply) -> None:
        """v1: an event of the request ``reply`` waits for its own connection; it is marked when written.

        The caller keeps the event, as an :class:`OwnEvent` when it queues it behind other frames.
        """
        reply.queued += 1

    def end(self, reply: Reply) -> Completion | None:
        """v1: the request's action has ended without a problem; what must still be written, if anything.

        Its last queued event becomes its terminal frame; with none queued (no event, or all written
        while the action still ran) the request ends with a :class:`Completion`.
        """
        reply.ended = True
        if reply.queued:
            return None
        reply.queued += 1
        return Completion(reply)

    def problem_frame(
        self, problem: WebSocketProblem, req_id: UUID | None, *, final: bool | None = None
    ) -> str:
        """An error frame for ``problem``; a 500 when its extension members are not JSON.

        ``final`` is the v1 marker (``None`` leaves it out, as protocol 0 and frames of no request do).
        """
        base_url = self.settings.problem_type_base_url
        try:
            return encode_problem(
                problem, req_id=req_id, instance=self.path, problem_type_base_url=base_url, final=final
            )
        except ValueError:
            logger.exception(
                "problem %s has extension members JSON cannot carry (req_id=%s)", problem.code, req_id
            )
            return encode_problem(
                InternalError(),
                req_id=req_id,
                instance=self.path,
                problem_type_base_url=base_url,
                final=final,
            )

    def closing(self) -> None:
        """Stop receiving and sending: the client left, stopped reading, or a write failed."""
        if self._state is ConnectionState.OPEN:
            self._state = ConnectionState.CLOSING
            self.open = False

    def closed(self) -> None:
        """The connection is torn down.

        Raises:
            InvalidState: It was never marked closing.
        """
        if self._state is not ConnectionState.CLOSING:
            raise InvalidState(ConnectionState.CLOSING, self._state)
        self._state = ConnectionState.CLOSED


def _exceeds(frame: str | bytes, limit: int) -> bool:
    """Whether the frame is larger than ``limit`` bytes, counting text as UTF-8."""
    if isinstance(frame, bytes) or len(frame) > limit:
        return len(frame) > limit
    # A character takes at most 4 bytes in UTF-8: only long texts need counting.
    return len(frame) * 4 > limit and len(frame.encode("utf-8", "surrogatepass")) > limit
