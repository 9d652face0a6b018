"""What an application's classes say about the contract through their annotations.

An event class names its payload model in its generic base (``Event[Model]``); an action's
``execute`` names the events it yields in its return annotation (``AsyncIterator[A | B]``).
"""

from __future__ import annotations

import types
import typing
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Iterable
from typing import Any, Final, Union, get_args, get_origin

from pydantic import BaseModel

from beeflow_websocket.core.event_registry import Event, EventRegistryMeta

__all__ = ["event_model", "yielded_events"]


def event_model(cls: type) -> type[BaseModel] | None:
    """The payload model of an ``Event[Model]`` subclass; ``None`` for an untyped event."""
    for klass in cls.__mro__:
        for base in getattr(klass, "__orig_bases__", ()):
            if get_origin(base) is Event:
                (argument,) = get_args(base) or (None,)
                if isinstance(argument, type) and issubclass(argument, BaseModel):
                    return argument
                return None
    return None


_ITERATORS: Final = (AsyncIterator, AsyncGenerator, AsyncIterable)


def yielded_events(cls: type) -> list[str] | None:
    """The registered events ``execute`` is annotated to yield; ``None`` when it names none."""
    try:
        hints = typing.get_type_hints(cls.execute)  # type: ignore[attr-defined]
    except Exception:  # an annotation that cannot be resolved says nothing
        return None
    returned = hints.get("return")
    if get_origin(returned) not in _ITERATORS or not get_args(returned):
        return None
    yielded = get_args(returned)[0]
    members: Iterable[Any] = (
        get_args(yielded) if get_origin(yielded) in (Union, types.UnionType) else (yielded,)
    )
    names = []
    for member in members:
        name = getattr(member, "event_name", None) if isinstance(member, type) else None
        if not isinstance(name, str) or name not in EventRegistryMeta.registry:
            return None  # a base class or protocol: any event
        names.append(name)
    return list(dict.fromkeys(names))
