"""Protocol v1 in the sans-I/O protocol: reserved actions, and marking each request's terminal frame."""

from uuid import UUID, uuid4

from pydantic_core import from_json, to_json

from beeflow_websocket.core.negotiation import negotiated_version, selected_subprotocol
from beeflow_websocket.core.problems import InvalidActionPayload, RequestCancelled, UnknownAction
from beeflow_websocket.core.protocol import (
    Cancel,
    Completion,
    ConnectionProtocol,
    OwnEvent,
    Ping,
    Rejection,
    Reply,
)
from beeflow_websocket.core.transport import OutboundEvent

REQ_ID = "5d1b7d2c-7a0e-4f65-8b1c-2f3e4d5c6b7a"
EVENT = OutboundEvent(
    req_id=REQ_ID, body='{"event":"note","recipient":"websocket","recipient_id":"c1","payload":{}}'
)


def envelope(action: str, payload: object) -> str:
    return to_json({"msg_id": str(uuid4()), "req_id": REQ_ID, "action": action, "payload": payload}).decode()


def v1() -> ConnectionProtocol:
    return ConnectionProtocol(path="/ws/", version=1, websocket_id="c1")


def test_the_handshake_selects_beeflow_v1_whatever_the_order_and_never_the_token() -> None:
    for offered in (
        ["beeflow.v1"],
        ["access-token", "secret", "beeflow.v1"],
        ["beeflow.v1", "access-token", "t"],
    ):
        assert (selected_subprotocol(offered), negotiated_version(offered)) == ("beeflow.v1", 1)
    assert (selected_subprotocol(["access-token", "secret"]), negotiated_version(["access-token", "x"])) == (
        "access-token",
        0,
    )
    assert (selected_subprotocol([]), negotiated_version(["chat"])) == (None, 0)


def test_cancel_and_ping_are_recognised_in_v1_only() -> None:
    target = uuid4()
    cancel = v1().receive(envelope("beeflow.cancel", {"req_id": str(target)}))
    assert cancel == Cancel(UUID(REQ_ID), target)
    assert v1().receive(envelope("beeflow.ping", {})) == Ping(UUID(REQ_ID))

    for action in ("beeflow.cancel", "beeflow.ping"):
        decision = ConnectionProtocol(path="/ws/").receive(envelope(action, {}))
        assert isinstance(decision, Rejection)
        assert isinstance(decision.problem, UnknownAction)


def test_a_cancel_without_a_valid_req_id_is_refused_422_with_the_field_named() -> None:
    for payload in ({}, {"req_id": "nope"}, {"req_id": str(uuid4()), "extra": 1}):
        decision = v1().receive(envelope("beeflow.cancel", payload))
        assert isinstance(decision, Rejection)
        assert isinstance(decision.problem, InvalidActionPayload)
        assert decision.req_id == UUID(REQ_ID)


def test_the_last_event_is_final_when_the_action_ended_before_it_was_written() -> None:
    protocol, reply = v1(), Reply(UUID(REQ_ID))
    protocol.own(reply)
    protocol.own(reply)
    assert protocol.end(reply) is None  # its last queued event will end it

    # The first queued behind other frames (an OwnEvent), the last held on its own: marked alike.
    frames = [from_json(protocol.frame(OwnEvent(EVENT, reply))), from_json(protocol.own_frame(EVENT, reply))]
    assert [(frame["seq"], frame["final"]) for frame in frames] == [(1, False), (2, True)]
    assert list(frames[1])[:4] == ["msg_id", "req_id", "seq", "final"]


def test_a_request_whose_events_were_all_written_while_it_ran_ends_with_a_completion() -> None:
    protocol, reply = v1(), Reply(UUID(REQ_ID))
    protocol.own(reply)
    written = from_json(protocol.own_frame(EVENT, reply))
    completion = protocol.end(reply)

    assert written["final"] is False
    assert isinstance(completion, Completion)
    assert from_json(protocol.frame(completion)) | {"msg_id": "-"} == {
        "msg_id": "-",
        "req_id": REQ_ID,
        "seq": 2,
        "final": True,
        "event": "beeflow.complete",
        "recipient": "websocket",
        "recipient_id": "c1",
        "payload": {"events": 1},
    }


def test_events_from_elsewhere_and_problems_outside_a_request_carry_no_final() -> None:
    protocol = v1()
    assert "final" not in from_json(protocol.frame(EVENT))
    assert "final" not in from_json(protocol.problem_frame(RequestCancelled(), None))
    assert from_json(protocol.problem_frame(RequestCancelled(), UUID(REQ_ID), final=True))["final"] is True
