from collections.abc import AsyncIterator
from uuid import UUID

import pytest

from beeflow_websocket.core.action_registry import ActionContext, ActionPluginProtocol, ActionRegistryMeta
from beeflow_websocket.core.actions.health import Health
from beeflow_websocket.core.event_registry import EventPluginProtocol
from beeflow_websocket.core.payloads import WebSocketActionPayload
from beeflow_websocket.core.testing import ActionTestClient

USER_UUID = UUID("5d1b7d2c-7a0e-4f65-8b1c-2f3e4d5c6b7a")


@pytest.mark.parametrize("user_id", [1, 42, "auth0|5f7c", USER_UUID])
def test_context_accepts_the_user_ids_applications_use(user_id: int | str | UUID) -> None:
    context = ActionContext(websocket_id="conn-1", user_id=user_id)

    assert (context.websocket_id, context.user_id) == ("conn-1", user_id)


@pytest.mark.parametrize(
    ("user_id", "error"),
    [
        (0, ValueError),
        (-3, ValueError),
        ("", ValueError),
        ("  ", ValueError),
        (True, TypeError),
        (1.5, TypeError),
    ],
)
def test_context_refuses_user_ids_that_name_nobody(user_id: object, error: type[Exception]) -> None:
    with pytest.raises(error, match="user_id"):
        ActionContext(websocket_id="conn-1", user_id=user_id)  # type: ignore[arg-type]


@pytest.mark.parametrize(("websocket_id", "error"), [("", ValueError), (" ", ValueError), (None, TypeError)])
def test_context_requires_a_connection_id(websocket_id: object, error: type[Exception]) -> None:
    with pytest.raises(error, match="websocket_id"):
        ActionContext(websocket_id=websocket_id, user_id=1)  # type: ignore[arg-type]


def test_context_is_an_immutable_value() -> None:
    context = ActionContext(websocket_id="conn-1", user_id=1)

    with pytest.raises(AttributeError):
        context.user_id = 2  # type: ignore[misc]
    assert context == ActionContext(websocket_id="conn-1", user_id=1)
    assert context != ActionContext(websocket_id="conn-1", user_id=2)
    assert hash(context) == hash(ActionContext(websocket_id="conn-1", user_id=1))
    assert repr(context) == "ActionContext(websocket_id='conn-1', user_id=1)"


def test_health_is_registered_and_satisfies_the_protocol() -> None:
    assert ActionRegistryMeta.registry["health"] is Health
    assert isinstance(Health(), ActionPluginProtocol)


def test_the_seed_s_minimal_action_registers_verbatim() -> None:
    class Echo(metaclass=ActionRegistryMeta, name="echo"):
        async def execute(
            self, message: WebSocketActionPayload, context: ActionContext
        ) -> AsyncIterator[EventPluginProtocol]:
            nothing: list[EventPluginProtocol] = []
            for event in nothing:
                yield event

    assert ActionRegistryMeta.registry["echo"] is Echo


def test_an_execute_without_yield_is_refused_when_the_class_is_defined() -> None:
    with pytest.raises(TypeError, match=r"Refuse\.execute is a coroutine function .* needs a yield"):

        class Refuse(metaclass=ActionRegistryMeta, name="refuse"):
            async def execute(self, message: WebSocketActionPayload, context: ActionContext) -> None:
                raise ValueError(message)

    assert "refuse" not in ActionRegistryMeta.registry


@pytest.mark.anyio
async def test_an_action_that_answers_with_no_event_is_an_async_generator() -> None:
    class Silent(metaclass=ActionRegistryMeta, name="silent"):
        async def execute(
            self, message: WebSocketActionPayload, context: ActionContext
        ) -> AsyncIterator[EventPluginProtocol]:
            return
            yield

    outcome = await ActionTestClient(user_id=1).call("silent")
    assert outcome.complete
    assert outcome.events == []
    assert outcome.terminal["payload"] == {"events": 0}
