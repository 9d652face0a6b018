import asyncio
import logging
from collections.abc import AsyncIterator, Collection
from uuid import UUID, uuid4

import pytest
from pydantic import JsonValue
from pydantic_core import from_json, to_json

from beeflow_websocket.core.action_registry import ActionContext, ActionRegistryMeta
from beeflow_websocket.core.dispatcher import ConnectionDispatcher
from beeflow_websocket.core.event_registry import Event, EventPluginProtocol
from beeflow_websocket.core.events.health import HealthEvent
from beeflow_websocket.core.groups import Group
from beeflow_websocket.core.payloads import ErrorPayload, WebSocketActionPayload, WebSocketEventPayload
from beeflow_websocket.core.problems import WebSocketProblem
from beeflow_websocket.core.recipient_registry import RecipientRegistryMeta
from beeflow_websocket.core.settings import DispatcherSettings
from beeflow_websocket.core.testing import ActionTestClient
from beeflow_websocket.core.transport import OutboundEvent

pytestmark = pytest.mark.anyio

REQ_ID = "5d1b7d2c-7a0e-4f65-8b1c-2f3e4d5c6b7a"
MSG_ID = "0b8e3a64-3b4f-4f0e-9d2b-1d7c0f5e6a01"
LEAK = "the vault code is 0451"


def envelope(**members: JsonValue) -> str:
    return to_json({"msg_id": MSG_ID, "req_id": REQ_ID, "action": "health", "payload": {}} | members).decode()


class Note(Event, name="note"):
    pass


def note(context: ActionContext, message: WebSocketActionPayload, text: str) -> Note:
    return Note(
        recipient="websocket",
        recipient_id=context.websocket_id,
        req_id=message.req_id,
        payload={"text": text},
    )


def assert_valid_frames(client: ActionTestClient) -> None:
    """Every frame the dispatcher writes is one of the two documented shapes."""
    for frame in client.raw_frames:
        data = from_json(frame)
        if "code" in data:
            ErrorPayload.model_validate(data)
            assert "seq" not in data
        else:
            WebSocketEventPayload.model_validate(data)


async def test_health_answers_the_asking_connection() -> None:
    client = ActionTestClient(protocol_version=0, user_id=1)

    await client.send_frame(envelope())

    [frame] = client.frames
    assert UUID(str(frame.pop("msg_id"))).version == 4
    assert frame == {
        "req_id": REQ_ID,
        "seq": 1,
        "event": "health",
        "recipient": "websocket",
        "recipient_id": client.websocket_id,
        "payload": {"status": "ok"},
    }


async def test_binary_frames_holding_utf8_json_are_actions_too() -> None:
    client = ActionTestClient(protocol_version=0)

    await client.send_frame(envelope().encode())

    assert client.frames[0]["event"] == "health"


async def test_an_action_yielding_several_events_numbers_them_in_order() -> None:
    class Countdown(metaclass=ActionRegistryMeta, name="countdown"):
        async def execute(
            self, message: WebSocketActionPayload, context: ActionContext
        ) -> AsyncIterator[Note]:
            for text in ("3", "2", "1"):
                yield note(context, message, text)

    client = ActionTestClient(protocol_version=0)
    await client.request("countdown")
    await client.request("countdown")

    assert [(f["seq"], f["payload"]) for f in client.frames] == [
        (1, {"text": "3"}),
        (2, {"text": "2"}),
        (3, {"text": "1"}),
        (4, {"text": "3"}),
        (5, {"text": "2"}),
        (6, {"text": "1"}),
    ]
    assert len({f["msg_id"] for f in client.frames}) == 6
    assert client.dispatcher.seq == 6
    assert_valid_frames(client)


async def test_an_action_may_yield_nothing() -> None:
    class Quiet(metaclass=ActionRegistryMeta, name="quiet"):
        async def execute(
            self, message: WebSocketActionPayload, context: ActionContext
        ) -> AsyncIterator[Note]:
            nothing: list[Note] = []
            for event in nothing:
                yield event

    client = ActionTestClient(protocol_version=0)

    assert await client.request("quiet") == []


async def test_the_action_receives_the_envelope_and_the_connection_context() -> None:
    seen: list[tuple[WebSocketActionPayload, ActionContext]] = []

    class Spy(metaclass=ActionRegistryMeta, name="spy"):
        async def execute(
            self, message: WebSocketActionPayload, context: ActionContext
        ) -> AsyncIterator[Note]:
            seen.append((message, context))
            nothing: list[Note] = []
            for event in nothing:
                yield event

    client = ActionTestClient(protocol_version=0, user_id="auth0|42", websocket_id="conn-9")
    req_id = await client.send("spy", {"text": "hi", "n": [1, None]})

    [(message, context)] = seen
    assert (message.action, message.req_id, message.payload) == (
        "spy",
        req_id,
        {"text": "hi", "n": [1, None]},
    )
    assert context == ActionContext(websocket_id="conn-9", user_id="auth0|42")


BAD_INPUT = [
    pytest.param("not json", None, "The message is not valid JSON (line 1, column 2).", id="not-json"),
    pytest.param("", None, "The message is not valid JSON (line 1, column 0).", id="empty"),
    pytest.param('{"msg_id": NaN}', None, "The message is not valid JSON (line 1, column 12).", id="nan"),
    pytest.param("{" * 10_000, None, None, id="too-deep"),
    pytest.param(b"\xc3\x28", None, "The binary message is not UTF-8 text.", id="binary-not-utf8"),
    pytest.param(b"GIF89a", None, "The message is not valid JSON (line 1, column 1).", id="binary-not-json"),
    pytest.param("[]", None, "The message must be a JSON object, got an array.", id="array"),
    pytest.param("3", None, "The message must be a JSON object, got a number.", id="number"),
    pytest.param('"health"', None, "The message must be a JSON object, got a string.", id="string"),
    pytest.param("null", None, "The message must be a JSON object, got null.", id="null"),
    pytest.param("false", None, "The message must be a JSON object, got a boolean.", id="boolean"),
    pytest.param("{}", None, None, id="empty-object"),
    pytest.param(
        envelope(req_id="nope"), None, "Invalid action envelope: req_id must be a UUID.", id="bad-req-id"
    ),
    pytest.param(
        envelope(msg_id=None),
        REQ_ID,
        "Invalid action envelope: msg_id must be a UUID string.",
        id="null-msg-id",
    ),
    pytest.param(
        envelope(action=""), REQ_ID, "Invalid action envelope: action must not be blank.", id="empty-action"
    ),
    pytest.param(
        envelope(action="  "), REQ_ID, "Invalid action envelope: action must not be blank.", id="blank-action"
    ),
    pytest.param(
        envelope(action=7), REQ_ID, "Invalid action envelope: action must be a string.", id="number-action"
    ),
    pytest.param(
        envelope(payload=[1]),
        REQ_ID,
        "Invalid action envelope: payload must be a JSON object.",
        id="list-payload",
    ),
    pytest.param(
        envelope(payload=None),
        REQ_ID,
        "Invalid action envelope: payload must be a JSON object.",
        id="null-payload",
    ),
    pytest.param(f'{{"req_id": "{REQ_ID}", "action": "health"}}', REQ_ID, None, id="missing-fields"),
]


@pytest.mark.parametrize(("frame", "req_id", "detail"), BAD_INPUT)
async def test_bad_input_is_answered_with_400_and_the_connection_survives(
    frame: str | bytes, req_id: str | None, detail: str | None
) -> None:
    client = ActionTestClient(
        protocol_version=0,
        settings=DispatcherSettings(problem_type_base_url="https://example.com/problems/websocket"),
    )

    await client.send_frame(frame)
    answer = await client.request("health")

    [error] = client.frames[:1]
    assert error.get("req_id") == req_id
    assert error["status"] == 400
    assert error["code"] == "invalid_websocket_message"
    assert error["title"] == "Invalid WebSocket message"
    assert error["type"] == "https://example.com/problems/websocket/invalid-message"
    assert error["instance"] == "/ws/"
    if detail is not None:
        assert error["detail"] == detail
    assert [(f["event"], f["seq"]) for f in answer] == [("health", 1)]
    assert_valid_frames(client)


async def test_an_unknown_action_is_answered_with_400() -> None:
    client = ActionTestClient(protocol_version=0)

    req_id = await client.send("launch-rockets")

    [error] = client.frames
    assert error["req_id"] == str(req_id)
    assert (error["status"], error["code"], error["type"]) == (400, "unknown_websocket_action", "about:blank")
    assert error["detail"] == "No action is registered under the name 'launch-rockets'."


async def test_a_failing_action_is_a_500_without_its_exception_text(caplog: pytest.LogCaptureFixture) -> None:
    class Fragile(metaclass=ActionRegistryMeta, name="fragile"):
        async def execute(
            self, message: WebSocketActionPayload, context: ActionContext
        ) -> AsyncIterator[Note]:
            yield note(context, message, "first")
            raise RuntimeError(LEAK)

    client = ActionTestClient(protocol_version=0)
    req_id = await client.send("fragile")
    answer = await client.request("health")

    first, error = client.frames[:2]
    assert first["payload"] == {"text": "first"}
    assert error["req_id"] == str(req_id)
    assert (error["status"], error["code"], error["title"]) == (
        500,
        "internal_error",
        "Internal server error",
    )
    assert LEAK not in "".join(client.raw_frames)
    assert "Traceback" not in "".join(client.raw_frames)
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert record.getMessage().startswith("action 'fragile' failed after ")
    assert record.getMessage().endswith(
        f" ms (req_id={req_id}, events=1, connection={client.websocket_id}, user=1)"
    )
    names = ("action", "req_id", "outcome", "events", "websocket_id", "user_id")
    fields = tuple(getattr(record, name) for name in names)
    assert fields == ("fragile", str(req_id), "failed", 1, client.websocket_id, "1")
    assert record.exc_info is not None
    assert str(record.exc_info[1]) == LEAK
    assert answer[0]["seq"] == 2


async def test_an_event_for_an_unregistered_recipient_is_a_500(caplog: pytest.LogCaptureFixture) -> None:
    finished: list[bool] = []

    class Misrouted(metaclass=ActionRegistryMeta, name="misrouted"):
        async def execute(
            self, message: WebSocketActionPayload, context: ActionContext
        ) -> AsyncIterator[Note]:
            try:
                yield note(context, message, "ok")
                yield Note(recipient="team", recipient_id="red", req_id=message.req_id, payload={})
                yield note(context, message, "never")
            finally:
                finished.append(True)

    client = ActionTestClient(protocol_version=0)
    req_id = await client.send("misrouted")

    assert [f.get("event", f.get("code")) for f in client.frames] == ["note", "internal_error"]
    assert client.frames[1]["req_id"] == str(req_id)
    assert finished == [True]
    assert "no recipient is registered under the name 'team'" in caplog.text


@pytest.mark.parametrize("kind", ["not-a-generator", "yields-a-dict", "no-execute", "unserialisable"])
async def test_an_action_that_breaks_the_contract_is_a_500(
    kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken(metaclass=ActionRegistryMeta, name="broken"):
        def execute(self, message: WebSocketActionPayload, context: ActionContext) -> object:
            if kind == "not-a-generator":
                return self.coroutine()
            if kind == "yields-a-dict":
                return self.dicts()
            return self.unserialisable(context)

        async def coroutine(self) -> None:
            return None

        async def dicts(self) -> AsyncIterator[object]:
            yield {"event": "note"}

        async def unserialisable(self, context: ActionContext) -> AsyncIterator[object]:
            yield Note(recipient="websocket", recipient_id=context.websocket_id, payload={"at": object()})  # type: ignore[dict-item]

    if kind == "no-execute":
        del Broken.execute
    client = ActionTestClient(protocol_version=0)

    await client.send("broken")

    assert [f["code"] for f in client.frames] == ["internal_error"]
    assert "action 'broken' failed" in caplog.text


async def test_a_domain_problem_reaches_the_client_after_earlier_events(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Book(metaclass=ActionRegistryMeta, name="book"):
        async def execute(
            self, message: WebSocketActionPayload, context: ActionContext
        ) -> AsyncIterator[Note]:
            yield note(context, message, "checking")
            raise WebSocketProblem(
                "Seat 12A was booked by someone else.",
                status=409,
                code="seat_taken",
                title="Seat already taken",
                extensions={"seat": "12A"},
            )

    caplog.set_level(logging.INFO)
    client = ActionTestClient(
        protocol_version=0, settings=DispatcherSettings(problem_type_base_url="https://example.com/problems")
    )
    req_id = await client.send("book")

    note_frame, error = client.frames
    assert note_frame["seq"] == 1
    error.pop("msg_id")
    assert error == {
        "req_id": str(req_id),
        "type": "https://example.com/problems/seat-taken",
        "title": "Seat already taken",
        "status": 409,
        "detail": "Seat 12A was booked by someone else.",
        "code": "seat_taken",
        "instance": "/ws/",
        "seat": "12A",
    }
    [record] = [r for r in caplog.records if getattr(r, "action", None) == "book"]
    assert record.levelno == logging.INFO
    assert record.getMessage().startswith("action 'book' answered 409 seat_taken in ")
    assert record.getMessage().endswith(f" ms (req_id={req_id}, events=1)")


async def test_a_problem_whose_extensions_json_cannot_carry_becomes_a_500(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Odd(metaclass=ActionRegistryMeta, name="odd"):
        async def execute(
            self, message: WebSocketActionPayload, context: ActionContext
        ) -> AsyncIterator[Note]:
            if not message.payload.get("silent"):
                raise WebSocketProblem(status=409, code="odd", extensions={"when": object()})  # type: ignore[dict-item]
            yield note(context, message, "never")

    client = ActionTestClient(protocol_version=0)
    req_id = await client.send("odd")

    [error] = client.frames
    assert (error["status"], error["code"], error["req_id"]) == (500, "internal_error", str(req_id))
    assert "problem odd has extension members JSON cannot carry" in caplog.text


async def test_a_generator_failing_while_closing_is_logged_and_the_answer_stands(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Stubborn(metaclass=ActionRegistryMeta, name="stubborn"):
        async def execute(
            self, message: WebSocketActionPayload, context: ActionContext
        ) -> AsyncIterator[Note]:
            try:
                yield Note(recipient="nobody", recipient_id="x", payload={})
            finally:
                raise RuntimeError("cleanup failed")

    client = ActionTestClient(protocol_version=0)
    await client.send("stubborn")

    assert [f["code"] for f in client.frames] == ["internal_error"]
    assert "action 'stubborn' failed while closing" in caplog.text


async def test_events_for_other_connections_are_routed_with_their_own_seq() -> None:
    class Shout(metaclass=ActionRegistryMeta, name="shout"):
        async def execute(
            self, message: WebSocketActionPayload, context: ActionContext
        ) -> AsyncIterator[Note]:
            target = message.payload["to"]
            assert isinstance(target, str)
            yield Note(
                recipient="websocket", recipient_id=target, req_id=message.req_id, payload={"text": "hey"}
            )

    alice = ActionTestClient(protocol_version=0, websocket_id="alice")
    bob = ActionTestClient(protocol_version=0, websocket_id="bob", connections=alice.connections)
    await bob.request("health")
    await bob.request("health")

    req_id = await alice.send("shout", {"to": "bob"})

    assert alice.frames == []
    received = bob.frames[-1]
    assert (received["seq"], received["req_id"], received["payload"]) == (3, str(req_id), {"text": "hey"})
    assert received["recipient_id"] == "bob"


async def test_a_resolver_naming_several_connections_reaches_each_once() -> None:
    class Everyone(metaclass=RecipientRegistryMeta, name="everyone"):
        async def resolve(self, recipient_id: str) -> Collection[str]:
            return ["alice", "bob", "alice", "carol-gone", "bob"]

    class Broadcast(metaclass=ActionRegistryMeta, name="broadcast"):
        async def execute(
            self, message: WebSocketActionPayload, context: ActionContext
        ) -> AsyncIterator[Note]:
            yield Note(recipient="everyone", recipient_id="all", payload={"text": "hi"})

    alice = ActionTestClient(protocol_version=0, websocket_id="alice")
    bob = ActionTestClient(protocol_version=0, websocket_id="bob", connections=alice.connections)

    await alice.send("broadcast")

    assert [(f["seq"], f["payload"]) for f in alice.frames] == [(1, {"text": "hi"})]
    assert [(f["seq"], f["payload"]) for f in bob.frames] == [(1, {"text": "hi"})]
    assert "req_id" not in bob.frames[0]


class Recorder:
    """A transport and a delivery engine that record what the dispatcher hands over."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.routed: list[tuple[list[str], OutboundEvent]] = []
        self.grouped: list[tuple[str, OutboundEvent]] = []
        self.memberships: list[tuple[str, str, str]] = []

    async def send(self, frame: str) -> None:
        self.sent.append(frame)

    async def close(self, code: int, reason: str) -> None:
        raise AssertionError("not closed here")

    async def send_to_connections(self, websocket_ids: Collection[str], event: OutboundEvent) -> None:
        self.routed.append((list(websocket_ids), event))

    async def send_to_group(self, group: str, event: OutboundEvent) -> OutboundEvent:
        self.grouped.append((group, event))
        return event

    async def add_to_group(self, group: str, websocket_id: str) -> None:
        self.memberships.append(("add", group, websocket_id))

    async def remove_from_group(self, group: str, websocket_id: str) -> None:
        self.memberships.append(("remove", group, websocket_id))

    async def close_connections(self, websocket_ids: Collection[str], code: int, reason: str) -> None:
        raise AssertionError("not closed here")

    async def close_group(self, group: str, code: int, reason: str) -> None:
        raise AssertionError("not closed here")


async def test_only_other_connections_go_through_the_delivery_engine() -> None:
    class Pair(metaclass=RecipientRegistryMeta, name="pair"):
        async def resolve(self, recipient_id: str) -> Collection[str | Group]:
            return ["me", recipient_id, Group("room:1")]

    class Ping(metaclass=ActionRegistryMeta, name="ping"):
        async def execute(
            self, message: WebSocketActionPayload, context: ActionContext
        ) -> AsyncIterator[EventPluginProtocol]:
            yield HealthEvent(recipient="pair", recipient_id="other", req_id=message.req_id)

    recorder = Recorder()
    dispatcher = ConnectionDispatcher(
        recorder, delivery=recorder, websocket_id="me", user_id=1, path="/api/ws/"
    )
    await dispatcher.open()
    await dispatcher.receive(envelope(action="ping"))
    await dispatcher.wait_idle()
    await dispatcher.close()

    assert len(recorder.sent) == 1
    [(ids, event)] = recorder.routed
    assert ids == ["other"]
    assert event.req_id == REQ_ID
    assert from_json(event.body)["recipient_id"] == "other"
    assert [group for group, _ in recorder.grouped] == ["room:1"]
    assert recorder.memberships == [("add", "~user:1", "me"), ("remove", "~user:1", "me")]
    assert dispatcher.websocket_id == "me"


async def test_the_instance_member_is_the_connection_path() -> None:
    recorder = Recorder()
    dispatcher = ConnectionDispatcher(
        recorder, delivery=recorder, websocket_id="me", user_id=uuid4(), path="/api/ws/"
    )

    await dispatcher.receive("{}")
    await dispatcher.wait_idle()
    await dispatcher.close()

    assert from_json(recorder.sent[0])["instance"] == "/api/ws/"


async def test_a_replaced_websocket_resolver_is_asked_even_for_the_connection_itself() -> None:
    asked: list[str] = []

    class Mirrored(metaclass=RecipientRegistryMeta, name="websocket", replace=True):
        """Sends what reaches one connection to a second one as well."""

        async def resolve(self, recipient_id: str) -> Collection[str]:
            asked.append(recipient_id)
            return (recipient_id, "observer")

    client = ActionTestClient(protocol_version=0, user_id=1)
    observer = ActionTestClient(
        protocol_version=0, user_id=2, websocket_id="observer", connections=client.connections
    )
    await observer.open()

    await client.send_frame(envelope())

    assert asked == [client.websocket_id]
    assert [frame["event"] for frame in client.frames] == ["health"]
    assert [frame["event"] for frame in observer.frames] == ["health"]
    await observer.close()


class Misbehaving(metaclass=ActionRegistryMeta, name="misbehaving"):
    """Fails after its first wait in the ways that once escaped the dispatcher."""

    async def execute(self, message: WebSocketActionPayload, context: ActionContext) -> AsyncIterator[Note]:
        await asyncio.sleep(0)
        how = message.payload["how"]
        if how == "exit":
            raise SystemExit(2)
        if how == "interrupt":
            raise KeyboardInterrupt
        elsewhere = asyncio.get_running_loop().create_future()
        elsewhere.cancel()
        await elsewhere
        yield note(context, message, "never")


class BuiltBadly(metaclass=ActionRegistryMeta, name="built-badly"):
    def __init__(self) -> None:
        raise RuntimeError("cannot build")

    async def execute(self, message: WebSocketActionPayload, context: ActionContext) -> AsyncIterator[Note]:
        yield note(context, message, "never")


@pytest.mark.parametrize(
    ("action", "payload"),
    [
        ("misbehaving", {"how": "exit"}),
        ("misbehaving", {"how": "interrupt"}),
        ("misbehaving", {"how": "cancelled-elsewhere"}),
        ("built-badly", {}),
    ],
)
async def test_an_action_that_escapes_exception_is_a_logged_500_and_the_next_frame_is_answered(
    action: str, payload: dict[str, JsonValue], caplog: pytest.LogCaptureFixture
) -> None:
    client = ActionTestClient(protocol_version=0, user_id=7)
    await client.open()
    req_id = uuid4()
    await client.dispatcher.receive(
        to_json(
            {"msg_id": str(uuid4()), "req_id": str(req_id), "action": action, "payload": payload}
        ).decode()
    )
    await client.dispatcher.receive(
        to_json({"msg_id": str(uuid4()), "req_id": str(uuid4()), "action": "health", "payload": {}}).decode()
    )
    await client.settle()

    problem, health = client.frames
    assert (problem["req_id"], problem["code"]) == (str(req_id), "internal_error")
    assert health["event"] == "health"
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert (getattr(record, "websocket_id"), getattr(record, "user_id")) == (client.websocket_id, "7")  # noqa: B009
