import pytest

from beeflow_websocket.core.exceptions import (
    ActionDoesNotExist,
    BeeflowWebSocketError,
    EventDoesNotExist,
    RecipientMapDoesNotExist,
    RegistryError,
)
from beeflow_websocket.core.problems import InternalError, InvalidMessage, UnknownAction, WebSocketProblem


@pytest.mark.parametrize(
    ("error", "kind"),
    [(ActionDoesNotExist, "action"), (EventDoesNotExist, "event"), (RecipientMapDoesNotExist, "recipient")],
)
def test_missing_names_read_as_sentences_and_are_key_errors(error: type[RegistryError], kind: str) -> None:
    raised = error("chat")

    assert isinstance(raised, KeyError)
    assert isinstance(raised, RegistryError)
    assert str(raised) == f"no {kind} is registered under the name 'chat'"


@pytest.mark.parametrize("problem", [InvalidMessage, UnknownAction, InternalError])
def test_every_problem_shares_the_one_base(problem: type[WebSocketProblem]) -> None:
    assert issubclass(problem, BeeflowWebSocketError)
