"""The sans-I/O protocol (beeflow_websocket.core.protocol): frames in and out, with no event loop."""

import subprocess
import sys
from uuid import UUID

import pytest
from pydantic_core import from_json, to_json

from beeflow_websocket.core.actions.health import Health
from beeflow_websocket.core.problems import InvalidMessage, MessageTooLarge, UnknownAction, WebSocketProblem
from beeflow_websocket.core.protocol import (
    ConnectionProtocol,
    ConnectionState,
    InvalidState,
    Rejection,
    Request,
)
from beeflow_websocket.core.settings import DispatcherSettings
from beeflow_websocket.core.transport import OutboundEvent

REQ_ID = "5d1b7d2c-7a0e-4f65-8b1c-2f3e4d5c6b7a"
MSG_ID = "0b8e3a64-3b4f-4f0e-9d2b-1d7c0f5e6a01"


def envelope(**members: object) -> str:
    return to_json({"msg_id": MSG_ID, "req_id": REQ_ID, "action": "health", "payload": {}} | members).decode()


def test_a_valid_frame_becomes_a_request_for_the_registered_action() -> None:
    decision = ConnectionProtocol(path="/ws/").receive(envelope())

    assert isinstance(decision, Request)
    assert decision.action_class is Health
    assert (decision.message.action, decision.message.req_id) == ("health", UUID(REQ_ID))


def test_an_unknown_action_is_rejected_to_its_req_id() -> None:
    decision = ConnectionProtocol(path="/ws/").receive(envelope(action="nope"))

    assert isinstance(decision, Rejection)
    assert decision.req_id == UUID(REQ_ID)
    assert isinstance(decision.problem, UnknownAction)
    assert decision.problem.detail == "No action is registered under the name 'nope'."


def test_a_bad_envelope_is_still_answered_to_a_readable_req_id() -> None:
    decision = ConnectionProtocol(path="/ws/").receive(envelope(action=""))

    assert isinstance(decision, Rejection)
    assert isinstance(decision.problem, InvalidMessage)
    assert decision.req_id == UUID(REQ_ID)


def test_a_frame_that_is_not_json_is_rejected_without_a_req_id() -> None:
    decision = ConnectionProtocol(path="/ws/").receive(b"\xff")

    assert isinstance(decision, Rejection)
    assert (type(decision.problem), decision.req_id) == (InvalidMessage, None)


@pytest.mark.parametrize(("text", "size"), [("a" * 9, 9), ("é" * 5, 10), ("€" * 3, 9), ("😀" * 2, 8)])
def test_the_size_limit_counts_text_as_utf8(text: str, size: int) -> None:
    limit = 9
    decision = ConnectionProtocol(path="/ws/", settings=DispatcherSettings(max_message_size=limit)).receive(
        text
    )

    assert isinstance(decision, Rejection)
    assert type(decision.problem) is (MessageTooLarge if size > limit else InvalidMessage)


def test_seq_numbers_events_only_in_the_order_they_are_framed() -> None:
    protocol = ConnectionProtocol(path="/ws/")
    event = OutboundEvent(
        req_id=None, body='{"event":"e","recipient":"websocket","recipient_id":"x","payload":{}}'
    )

    frames = [protocol.frame(event), protocol.frame('{"already":"a frame"}'), protocol.frame(event)]

    assert [from_json(frame).get("seq") for frame in frames] == [1, None, 2]
    assert (protocol.seq, protocol.written) == (2, 3)


def test_a_problem_frame_carries_the_path_and_the_type_base() -> None:
    protocol = ConnectionProtocol(
        path="/ws/chat/", settings=DispatcherSettings(problem_type_base_url="https://errors.example/")
    )

    frame = from_json(protocol.problem_frame(UnknownAction("No such action."), UUID(REQ_ID)))

    assert (frame["req_id"], frame["instance"], frame["type"]) == (
        REQ_ID,
        "/ws/chat/",
        "https://errors.example/unknown-action",
    )


def test_a_problem_whose_extensions_are_not_json_becomes_a_500() -> None:
    problem = WebSocketProblem(status=409, code="odd", extensions={"when": object()})  # type: ignore[dict-item]

    frame = from_json(ConnectionProtocol(path="/ws/").problem_frame(problem, None))

    assert (frame["status"], frame["code"]) == (500, "internal_error")


def test_the_state_only_moves_forward_and_a_closing_connection_sends_nothing() -> None:
    protocol = ConnectionProtocol(path="/ws/")
    assert (protocol.state, protocol.open) == (ConnectionState.OPEN, True)

    protocol.closing()
    protocol.closing()

    assert (protocol.state, protocol.open) == (ConnectionState.CLOSING, False)
    with pytest.raises(InvalidState, match="expected OPEN, got CLOSING"):
        protocol.frame('{"late":true}')
    with pytest.raises(InvalidState, match="expected OPEN, got CLOSING"):
        protocol.receive(envelope())
    protocol.closed()
    assert protocol.state is ConnectionState.CLOSED
    with pytest.raises(InvalidState, match="expected CLOSING, got CLOSED"):
        protocol.closed()
    protocol.closing()
    assert protocol.state is ConnectionState.CLOSED


def test_a_connection_cannot_be_closed_without_closing_first() -> None:
    with pytest.raises(InvalidState, match="expected CLOSING, got OPEN") as raised:
        ConnectionProtocol(path="/ws/").closed()

    assert (raised.value.expected, raised.value.got) == (ConnectionState.CLOSING, ConnectionState.OPEN)


def test_importing_the_protocol_loads_no_asyncio() -> None:
    code = "import sys, beeflow_websocket.core.protocol; print('asyncio' in sys.modules)"

    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert result.stdout.strip() == "False"
