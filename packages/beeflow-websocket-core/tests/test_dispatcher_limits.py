"""The inbound size limit, and typed action payloads."""

import asyncio
from collections.abc import AsyncIterator
from datetime import date

import pytest
from pydantic import BaseModel, Field

from beeflow_websocket.core.action_registry import Action, ActionContext
from beeflow_websocket.core.event_registry import Event
from beeflow_websocket.core.payloads import ActionMessage
from beeflow_websocket.core.settings import DEFAULT_MAX_MESSAGE_SIZE, DispatcherSettings
from beeflow_websocket.core.testing import ActionTestClient

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    "frame",
    [
        "x" * (DEFAULT_MAX_MESSAGE_SIZE + 1),
        "ż" * (DEFAULT_MAX_MESSAGE_SIZE // 2 + 1),
        b"{" * (DEFAULT_MAX_MESSAGE_SIZE + 1),
    ],
    ids=["ascii-text", "two-byte-text", "binary"],
)
async def test_a_frame_over_the_limit_is_413_without_being_parsed(frame: str | bytes) -> None:
    client = ActionTestClient()

    await client.send_frame(frame)
    answer = await client.request("health")

    [error] = client.frames[:1]
    assert (error["status"], error["code"], error["title"]) == (
        413,
        "message_too_large",
        "WebSocket message too large",
    )
    assert error["detail"] == f"The message is larger than {DEFAULT_MAX_MESSAGE_SIZE} bytes."
    assert "req_id" not in error
    assert answer[0]["event"] == "health"


async def test_the_limit_counts_bytes_and_is_configurable() -> None:
    client = ActionTestClient(settings=DispatcherSettings(max_message_size=200))
    at_limit = '{"pad": "' + "ż" * 20 + "x" * 150 + '"}'  # 190 characters, 210 bytes

    await client.send_frame(at_limit)
    await client.send_frame(b"[" + b" " * 198 + b"]")

    assert [f["code"] for f in client.frames] == ["message_too_large", "invalid_websocket_message"]


class Booking(BaseModel):
    seat: str = Field(pattern=r"^\d{1,2}[A-F]$")
    passengers: int = Field(ge=1, le=9)
    day: date


class Booked(BaseModel):
    seat: str
    passengers: int
    day: date


class BookedEvent(Event[Booked], name="booked"):
    pass


seen: list[object] = []


class Book(Action[Booking], name="reserve"):
    async def execute(
        self, message: ActionMessage[Booking], context: ActionContext
    ) -> AsyncIterator[BookedEvent]:
        seen.append(message.payload)
        booked = Booked(
            seat=message.payload.seat, passengers=message.payload.passengers, day=message.payload.day
        )
        yield BookedEvent(
            recipient="websocket", recipient_id=context.websocket_id, req_id=message.req_id, payload=booked
        )


class Untyped(Action, name="untyped"):
    async def execute(self, message: ActionMessage, context: ActionContext) -> AsyncIterator[BookedEvent]:
        seen.append(message.payload)
        nothing: list[BookedEvent] = []
        for event in nothing:
            yield event


async def test_a_typed_action_receives_its_validated_model() -> None:
    seen.clear()
    client = ActionTestClient()

    [frame] = await client.request("reserve", {"seat": "12A", "passengers": "2", "day": "2026-12-24"})

    assert seen == [Booking(seat="12A", passengers=2, day=date(2026, 12, 24))]
    assert frame["payload"] == {"seat": "12A", "passengers": 2, "day": "2026-12-24"}
    assert Book.payload_model is Booking
    assert Untyped.payload_model is None


async def test_a_payload_that_does_not_fit_is_422_and_the_action_does_not_run() -> None:
    seen.clear()
    client = ActionTestClient(
        settings=DispatcherSettings(problem_type_base_url="https://example.com/problems")
    )

    req_id = await client.send("reserve", {"seat": "99Z", "passengers": 0})

    [error] = client.frames
    assert seen == []
    assert error["req_id"] == str(req_id)
    assert (error["status"], error["code"], error["title"]) == (
        422,
        "invalid_action_payload",
        "Invalid action payload",
    )
    assert error["type"] == "https://example.com/problems/invalid-action-payload"
    assert error["errors"] == [
        {
            "loc": ["payload", "seat"],
            "msg": "String should match pattern '^\\d{1,2}[A-F]$'",
            "type": "string_pattern_mismatch",
        },
        {
            "loc": ["payload", "passengers"],
            "msg": "Input should be greater than or equal to 1",
            "type": "greater_than_equal",
        },
        {"loc": ["payload", "day"], "msg": "Field required", "type": "missing"},
    ]
    detail = str(error["detail"])
    assert detail.startswith("Invalid payload for action 'reserve': payload.seat string should match pattern")
    assert "payload.day field required." in detail


async def test_an_action_without_a_model_gets_the_object_in_an_action_message() -> None:
    seen.clear()
    client = ActionTestClient()

    await client.request("untyped", {"any": ["thing", 1]})

    assert seen == [{"any": ["thing", 1]}]


async def test_an_action_that_does_not_implement_execute_is_a_500(caplog: pytest.LogCaptureFixture) -> None:
    class Lazy(Action, name="lazy"):
        pass

    client = ActionTestClient()
    await client.request("lazy")

    assert client.frames[0]["code"] == "internal_error"
    assert "Lazy must implement execute()" in caplog.text


async def test_a_connection_that_sends_nothing_for_the_idle_timeout_is_closed_with_4408() -> None:
    quiet = ActionTestClient(settings=DispatcherSettings(idle_timeout=0.2))
    talking = ActionTestClient(settings=DispatcherSettings(idle_timeout=0.2))
    await quiet.open()
    await talking.open()

    for _ in range(6):  # 0.48 s in all, never 0.2 s without a frame
        await talking.send("health")
        await asyncio.sleep(0.08)

    assert quiet.closed_with == (4408, "idle: nothing received for 0.2 s")
    assert quiet.dispatcher.closed
    assert talking.closed_with is None
    assert len(talking.frames) == 6
    await talking.close()


async def test_without_an_idle_timeout_a_quiet_connection_stays_open() -> None:
    quiet = ActionTestClient()
    await quiet.open()
    await asyncio.sleep(0.1)

    assert (quiet.closed_with, quiet.dispatcher.closed) == (None, False)
    await quiet.close()
