"""One routing path: an event's recipient becomes connections and groups, the same for every sender.

An action's events and a push from a view or a task both go through :func:`route`, so a pushed event
reaches exactly the connections it would reach had an action yielded it. The asking connection's own
events are handed to it directly (``own``), where its outbound queue gives them their ``seq``, also
when they reach it as a member of a group (its user's, or one it joined): then the group is sent the
event without it. A request's events thus reach its own connection in the order they were yielded,
and before its end, even when a group's events cross processes. Every other connection and group is
reached through the delivery engine.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from typing import TYPE_CHECKING

from beeflow_websocket.core._wire import encode_event
from beeflow_websocket.core.groups import Group
from beeflow_websocket.core.recipient_registry import RecipientRegistryMeta
from beeflow_websocket.core.recipients.websocket import WebSocketRecipient
from beeflow_websocket.core.transport import OutboundEvent

if TYPE_CHECKING:
    from beeflow_websocket.core.event_registry import EventPluginProtocol
    from beeflow_websocket.core.history.store import History
    from beeflow_websocket.core.transport import Delivery

__all__ = ["resolve_recipient", "route"]


async def resolve_recipient(event: EventPluginProtocol) -> tuple[list[str], list[str]]:
    """Resolve an event's recipient into connection ids and group names, each once.

    Raises:
        RecipientMapDoesNotExist: No resolver is registered under the event's ``recipient``.
        InvalidGroupName: A group recipient names a group that is not allowed.
    """
    resolver = RecipientRegistryMeta.registry[event.recipient]
    if resolver is WebSocketRecipient:
        # The built-in resolver names the connection its id names: the answer to most requests.
        return [event.recipient_id], []
    websocket_ids: dict[str, None] = {}
    groups: dict[str, None] = {}
    for target in await resolver().resolve(event.recipient_id):
        if isinstance(target, Group):
            groups[target.name] = None
        else:
            websocket_ids[target] = None
    return list(websocket_ids), list(groups)


async def route(
    event: EventPluginProtocol,
    delivery: Delivery,
    *,
    own_id: str | None = None,
    own: Callable[[OutboundEvent], Awaitable[None] | None] | None = None,
    own_groups: Collection[str] = (),
) -> OutboundEvent:
    """Send ``event`` to every connection its recipient resolves to; return what was sent.

    Args:
        event: The event.
        delivery: Reaches connections and groups, in this process or others.
        own_id: The connection that produced the event, if any.
        own: Hands the event to that connection itself, when the recipient names it; what it
            returns, if anything, is awaited (room in a full queue).
        own_groups: The groups that connection is in, where ``own`` reaches it instead.

    Raises:
        RecipientMapDoesNotExist: No resolver is registered under the event's ``recipient``.
        InvalidGroupName: A group recipient names a group that is not allowed.
        DeliveryUnavailable: The engine could not take the event (what ``own`` got stays delivered).
    """
    websocket_ids, groups = await resolve_recipient(event)
    outbound = encode_event(event)
    skip = own_id if own_id is not None and getattr(event, "exclude_current", False) else None
    if skip is not None:
        # Everyone but the asker: its own id leaves the list, and groups carry it to be skipped.
        outbound = OutboundEvent(req_id=outbound.req_id, body=outbound.body, skip=skip)
        websocket_ids = [websocket_id for websocket_id in websocket_ids if websocket_id != skip]
    elif own is not None:
        member = bool(groups) and bool(own_groups) and any(group in own_groups for group in groups)
        if own_id in websocket_ids:
            websocket_ids.remove(own_id)
        elif not member:
            own = None
        if member and own is not None and _kept(delivery, groups):
            return await _own_after_groups(outbound, delivery, websocket_ids, groups, own_id, own, own_groups)
        if own is not None and (waiting := own(outbound)) is not None:
            await waiting
        if member:
            outbound = OutboundEvent(req_id=outbound.req_id, body=outbound.body, skip=own_id)
    if websocket_ids:
        await delivery.send_to_connections(websocket_ids, outbound)
    for group in groups:
        await delivery.send_to_group(group, outbound)
    return outbound


def _kept(delivery: Delivery, groups: Collection[str]) -> bool:
    """Whether the engine keeps a history of any of ``groups``."""
    history: History | None = getattr(delivery, "history", None)
    return history is not None and any(history.policy.keeps(group) for group in groups)


async def _own_after_groups(
    outbound: OutboundEvent,
    delivery: Delivery,
    websocket_ids: list[str],
    groups: list[str],
    own_id: str | None,
    own: Callable[[OutboundEvent], Awaitable[None] | None],
    own_groups: Collection[str],
) -> OutboundEvent:
    """Route an event whose stream keeps a history and reaches the asker as a member.

    The stream numbers the event as it is kept, so the asker's copy, which carries the number too,
    is handed over once the groups have taken it rather than before.
    """
    skipping = OutboundEvent(req_id=outbound.req_id, body=outbound.body, skip=own_id)
    if websocket_ids:
        await delivery.send_to_connections(websocket_ids, skipping)
    mine = outbound
    for group in groups:
        sent = await delivery.send_to_group(group, skipping)
        if group in own_groups and mine.position is None and sent.position is not None:
            mine = OutboundEvent(outbound.req_id, outbound.body, None, sent.position)
    if (waiting := own(mine)) is not None:
        await waiting
    return skipping
