from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from pydantic import BaseModel

from beeflow_websocket.core._asyncapi_annotations import event_model, yielded_events
from beeflow_websocket.core.event_registry import Event
from beeflow_websocket.core.testing import isolated_registries


class Seat(BaseModel):
    seat: str


@pytest.fixture
def events() -> Iterator[tuple[type, type, type]]:
    with isolated_registries():

        class Typed(Event[Seat], name="typed"):
            pass

        class Untyped(Event, name="untyped"):
            pass

        class Subclass(Typed, name="subclass"):
            pass

        yield Typed, Untyped, Subclass


def test_an_event_s_model_is_found_in_its_generic_base(events: tuple[type, type, type]) -> None:
    typed, untyped, subclass = events

    assert event_model(typed) is Seat
    assert event_model(subclass) is Seat
    assert event_model(untyped) is None
    assert event_model(int) is None


def test_the_events_an_action_yields_come_from_its_return_annotation(events: tuple[type, type, type]) -> None:
    typed, untyped, _ = events

    class Both:
        async def execute(self, message: Any, context: Any) -> AsyncIterator[typed | untyped]:  # type: ignore[valid-type]
            yield typed()

    class AnyEvent:
        async def execute(self, message: Any, context: Any) -> AsyncIterator[Event[Any]]:
            yield typed()

    class NotAnIterator:
        async def execute(self, message: Any, context: Any) -> list[int]:
            return []

    class Unresolvable:
        async def execute(self, message: Any, context: Any) -> "AsyncIterator[NoSuchName]":  # type: ignore[name-defined]  # noqa: F821
            yield None

    assert yielded_events(Both) == ["typed", "untyped"]
    assert yielded_events(AnyEvent) is None
    assert yielded_events(NotAnIterator) is None
    assert yielded_events(Unresolvable) is None
