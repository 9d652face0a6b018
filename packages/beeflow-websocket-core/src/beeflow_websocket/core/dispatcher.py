"""The connection dispatcher: the whole protocol, for one connection, with no I/O of its own.

An adapter creates one :class:`ConnectionDispatcher` per accepted connection, gives it a
:class:`~beeflow_websocket.core.transport.Transport`, and calls :meth:`~ConnectionDispatcher.receive`
for each frame the client sends and :meth:`~ConnectionDispatcher.deliver` for each event another
connection routed to it. Everything else is decided here, once for every framework: decoding,
envelope validation, action lookup, running the action, recipient resolution, ``msg_id`` and
``seq``, and the Problem Details frame for every failure. The connection always survives bad input.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Final
from uuid import UUID

from beeflow_websocket.core import _builtins  # noqa: F401 - registers health and websocket
from beeflow_websocket.core._wire import (
    decode_object,
    encode_event,
    encode_problem,
    quoted,
    read_req_id,
    stamp,
    validate_envelope,
)
from beeflow_websocket.core.action_registry import ActionContext, ActionRegistryMeta, UserId
from beeflow_websocket.core.exceptions import ActionDoesNotExist
from beeflow_websocket.core.problems import InternalError, UnknownAction, WebSocketProblem
from beeflow_websocket.core.recipient_registry import RecipientRegistryMeta
from beeflow_websocket.core.settings import DEFAULT_SETTINGS, DispatcherSettings

if TYPE_CHECKING:
    from beeflow_websocket.core.event_registry import EventPluginProtocol
    from beeflow_websocket.core.payloads import WebSocketActionPayload
    from beeflow_websocket.core.transport import OutboundEvent, Transport

__all__ = ["ConnectionDispatcher"]

logger: Final = logging.getLogger(__name__)
_ABSENT: Final = object()


class ConnectionDispatcher:
    """Runs the protocol for one connection.

    Args:
        transport: Sends frames for this connection and routes events to others.
        websocket_id: This connection's id, unique among live connections of the deployment.
        user_id: The authenticated user's id.
        path: The connection path, sent as ``instance`` in error frames.
        settings: Protocol settings shared by the adapter's connections.
    """

    __slots__ = ("_seq", "context", "path", "settings", "transport")

    def __init__(
        self,
        transport: Transport,
        *,
        websocket_id: str,
        user_id: UserId,
        path: str,
        settings: DispatcherSettings = DEFAULT_SETTINGS,
    ) -> None:
        self.transport = transport
        self.context = ActionContext(websocket_id=websocket_id, user_id=user_id)
        self.path = path
        self.settings = settings
        self._seq = 0

    @property
    def websocket_id(self) -> str:
        """This connection's id."""
        return self.context.websocket_id

    @property
    def seq(self) -> int:
        """The ``seq`` of the last event frame this connection was sent; 0 before the first."""
        return self._seq

    async def receive(self, frame: str | bytes) -> None:
        """Handle one frame from the client: run the action it asks for, or answer with a problem.

        Returns when the action has finished and its events and errors have been handed to the
        transport. Only the transport's own failures (the connection is gone) propagate.
        """
        req_id: UUID | None = None
        try:
            data = decode_object(frame)
            req_id = read_req_id(data)
            message = validate_envelope(data)
            try:
                action_class = ActionRegistryMeta.registry[message.action]
            except ActionDoesNotExist:
                raise UnknownAction(
                    f"No action is registered under the name {quoted(message.action)}."
                ) from None
            await self._run(action_class(), message)
        except WebSocketProblem as problem:
            await self._send_problem(problem, req_id)

    async def deliver(self, event: OutboundEvent) -> None:
        """Send an event to this connection, numbered with its next ``seq``."""
        self._seq += 1
        await self.transport.send(stamp(event, self._seq))

    async def _run(self, action: object, message: WebSocketActionPayload) -> None:
        # The action is typed loosely on purpose: whatever a registered class does wrong (execute
        # missing, not an async generator, yielding something that is not an event) is the
        # application's bug and must end in a logged 500, never in a dead connection.
        events = None
        try:
            events = action.execute(message, self.context)  # type: ignore[attr-defined]
            async for event in events:
                await self._emit(event)
        except WebSocketProblem as problem:
            logger.info(
                "action %r answered %s %s (req_id=%s)",
                message.action,
                problem.status,
                problem.code,
                message.req_id,
            )
            raise
        except Exception:
            logger.exception("action %r failed (req_id=%s)", message.action, message.req_id)
            raise InternalError from None
        finally:
            await _close(events, message)

    async def _emit(self, event: EventPluginProtocol) -> None:
        resolver = RecipientRegistryMeta.registry[event.recipient]
        websocket_ids = await resolver().resolve(event.recipient_id)
        outbound = encode_event(event)
        others = dict.fromkeys(websocket_ids)
        if others.pop(self.context.websocket_id, _ABSENT) is not _ABSENT:
            await self.deliver(outbound)
        if others:
            await self.transport.route(list(others), outbound)

    async def _send_problem(self, problem: WebSocketProblem, req_id: UUID | None) -> None:
        base_url = self.settings.problem_type_base_url
        try:
            frame = encode_problem(problem, req_id=req_id, instance=self.path, problem_type_base_url=base_url)
        except ValueError:
            logger.exception(
                "problem %s has extension members JSON cannot carry (req_id=%s)", problem.code, req_id
            )
            frame = encode_problem(
                InternalError(), req_id=req_id, instance=self.path, problem_type_base_url=base_url
            )
        await self.transport.send(frame)


async def _close(events: object, message: WebSocketActionPayload) -> None:
    """Close what ``execute`` returned now, rather than leave it to the garbage collector.

    An async generator's ``finally`` blocks then run on this task, also when emitting one of its
    events failed; a coroutine returned by mistake is closed without a "never awaited" warning.
    A failure while closing is logged: the request has already been answered or failed.
    """
    try:
        if (aclose := getattr(events, "aclose", None)) is not None:
            await aclose()
        elif (close := getattr(events, "close", None)) is not None:
            close()
    except Exception:
        logger.exception("action %r failed while closing (req_id=%s)", message.action, message.req_id)
