# ruff: noqa: E501 - the snippets are source files in their own right
"""Static typing carries through typed actions and events: mypy --strict checks them against the model."""

from pathlib import Path

import pytest
from mypy import api

PREAMBLE = """
from collections.abc import AsyncIterator

from pydantic import BaseModel

from beeflow_websocket.core.action_registry import Action, ActionContext
from beeflow_websocket.core.event_registry import Event
from beeflow_websocket.core.payloads import ActionMessage


class Greeting(BaseModel):
    name: str


class Other(BaseModel):
    count: int


class Greeted(BaseModel):
    text: str


class GreetedEvent(Event[Greeted], name="greeted"):
    pass
"""

GOOD = """
class Greet(Action[Greeting], name="greet"):
    async def execute(self, message: ActionMessage[Greeting], context: ActionContext) -> AsyncIterator[GreetedEvent]:
        text: str = message.payload.name.upper()
        yield GreetedEvent(recipient="websocket", recipient_id=context.websocket_id, payload=Greeted(text=text))
"""

ANY_EVENT = """
class Untyped(Event, name="untyped"):
    pass


class Greet(Action[Greeting], name="greet"):
    async def execute(self, message: ActionMessage[Greeting], context: ActionContext) -> AsyncIterator[Event]:
        yield GreetedEvent(recipient="websocket", recipient_id=context.websocket_id, payload=Greeted(text=""))
        yield Untyped(recipient="websocket", recipient_id=context.websocket_id, payload={"n": 1})
"""

MISTAKES = {
    "a field the model lacks": (
        """
class Greet(Action[Greeting], name="greet"):
    async def execute(self, message: ActionMessage[Greeting], context: ActionContext) -> AsyncIterator[GreetedEvent]:
        print(message.payload.nmae)
        yield GreetedEvent(recipient="websocket", recipient_id=context.websocket_id, payload=Greeted(text=""))
""",
        '"Greeting" has no attribute "nmae"',
    ),
    "a message of another model": (
        """
class Greet(Action[Greeting], name="greet"):
    async def execute(self, message: ActionMessage[Other], context: ActionContext) -> AsyncIterator[GreetedEvent]:
        yield GreetedEvent(recipient="websocket", recipient_id=context.websocket_id, payload=Greeted(text=""))
""",
        "incompatible with supertype",
    ),
    "an event payload of another model": (
        """
class Greet(Action[Greeting], name="greet"):
    async def execute(self, message: ActionMessage[Greeting], context: ActionContext) -> AsyncIterator[GreetedEvent]:
        yield GreetedEvent(recipient="websocket", recipient_id=context.websocket_id, payload=Other(count=1))
""",
        'incompatible type "Other"; expected "Greeted"',
    ),
}


def check(tmp_path: Path, body: str) -> tuple[str, int]:
    source = tmp_path / "typed_action.py"
    source.write_text(PREAMBLE + body)
    output, errors, status = api.run(
        [
            "--strict",
            "--no-incremental",
            "--cache-dir",
            str(tmp_path / "cache"),
            "--no-error-summary",
            str(source),
        ]
    )
    return output + errors, status


def test_a_correct_typed_action_passes_mypy_strict(tmp_path: Path) -> None:
    output, status = check(tmp_path, GOOD)

    assert status == 0, output


def test_a_bare_event_annotation_admits_typed_and_untyped_events(tmp_path: Path) -> None:
    output, status = check(tmp_path, ANY_EVENT)

    assert status == 0, output


@pytest.mark.parametrize("mistake", MISTAKES, ids=list(MISTAKES))
def test_mypy_rejects_a_typed_action_that_disagrees_with_its_model(tmp_path: Path, mistake: str) -> None:
    body, expected = MISTAKES[mistake]

    output, status = check(tmp_path, body)

    assert status == 1
    assert expected in output, output
