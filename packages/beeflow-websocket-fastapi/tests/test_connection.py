import logging
from collections.abc import AsyncIterator
from typing import Annotated
from uuid import uuid4

import pytest
from fastapi import Depends, FastAPI, WebSocket, WebSocketException, status
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from beeflow_websocket.core.action_registry import ActionContext, ActionRegistryMeta
from beeflow_websocket.core.event_registry import Event
from beeflow_websocket.core.payloads import WebSocketActionPayload
from beeflow_websocket.fastapi import configure_beeflow_websocket, get_access_token, handle_beeflow_websocket
from beeflow_websocket.fastapi.configuration import adapter_state

TOKENS = {"token-alice": 1, "token-bob": 2}


class Note(Event, name="note"):
    pass


async def current_user_id(websocket: WebSocket) -> int:
    user_id = TOKENS.get(get_access_token(websocket) or "")
    if user_id is None:
        raise WebSocketException(code=status.WS_1008_POLICY_VIOLATION)
    return user_id


def make_app(**keywords: object) -> FastAPI:
    app = FastAPI()
    configure_beeflow_websocket(app, autodiscover=False, **keywords)  # type: ignore[arg-type]

    @app.websocket("/ws/")
    async def websocket_endpoint(
        websocket: WebSocket, user_id: Annotated[int, Depends(current_user_id)]
    ) -> None:
        await handle_beeflow_websocket(
            websocket, user_id=user_id, websocket_id=websocket.query_params.get("id")
        )

    return app


def envelope(action: str, payload: dict[str, object] | None = None) -> dict[str, object]:
    return {"msg_id": str(uuid4()), "req_id": str(uuid4()), "action": action, "payload": payload or {}}


def test_health_round_trip_selects_only_the_marker_subprotocol() -> None:
    with (
        TestClient(make_app()) as client,
        client.websocket_connect("/ws/", subprotocols=["access-token", "token-alice"]) as ws,
    ):
        selected: object = ws.accepted_subprotocol  # typed None by Starlette until accepted
        assert selected == "access-token"
        request = envelope("health")
        ws.send_json(request)
        frame = ws.receive_json()

    assert (frame["event"], frame["req_id"], frame["seq"], frame["payload"]) == (
        "health",
        request["req_id"],
        1,
        {"status": "ok"},
    )


def test_a_rejected_token_refuses_the_handshake() -> None:
    with (
        TestClient(make_app()) as client,
        pytest.raises(WebSocketDisconnect) as refused,
        client.websocket_connect("/ws/", subprotocols=["access-token", "forged"]),
    ):
        pass

    assert refused.value.code == status.WS_1008_POLICY_VIOLATION


def test_no_subprotocol_is_selected_when_none_was_offered() -> None:
    app = FastAPI()

    @app.websocket("/ws/")
    async def endpoint(websocket: WebSocket) -> None:
        await handle_beeflow_websocket(websocket, user_id="auth0|7")

    with TestClient(app) as client, client.websocket_connect("/ws/") as ws:
        assert ws.accepted_subprotocol is None
        ws.send_text("nope")
        frame = ws.receive_json()

    assert (frame["code"], frame["type"], frame["instance"]) == (
        "invalid_websocket_message",
        "about:blank",
        "/ws/",
    )


def test_binary_frames_and_the_configured_problem_type() -> None:
    app = make_app(problem_type_base_url="https://example.com/problems/websocket")

    with (
        TestClient(app) as client,
        client.websocket_connect("/ws/", subprotocols=["access-token", "token-bob"]) as ws,
    ):
        ws.send_bytes(b'{"req_id": "bad"')
        error = ws.receive_json()
        ws.send_bytes(
            b'{"msg_id": "%s", "req_id": "%s", "action": "health", "payload": {}}'
            % (str(uuid4()).encode(), str(uuid4()).encode())
        )
        event = ws.receive_json()

    assert error["type"] == "https://example.com/problems/websocket/invalid-message"
    assert (event["event"], event["seq"]) == ("health", 1)


def test_connections_of_one_application_reach_each_other_and_leave_cleanly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Poke(metaclass=ActionRegistryMeta, name="poke"):
        async def execute(
            self, message: WebSocketActionPayload, context: ActionContext
        ) -> AsyncIterator[Note]:
            for target in (message.payload["to"], "gone-connection"):
                assert isinstance(target, str)
                yield Note(
                    recipient="websocket",
                    recipient_id=target,
                    req_id=message.req_id,
                    payload={"from": str(context.user_id)},
                )

    app = make_app()
    with TestClient(app) as client:
        with (
            client.websocket_connect("/ws/?id=alice", subprotocols=["access-token", "token-alice"]) as alice,
            client.websocket_connect("/ws/?id=bob", subprotocols=["access-token", "token-bob"]) as bob,
        ):
            alice.send_json(envelope("health"))
            alice.receive_json()
            bob.send_json(envelope("poke", {"to": "alice"}))
            bob.send_json(envelope("health"))
            poked = alice.receive_json()
            assert bob.receive_json()["event"] == "health"
            assert len(adapter_state(app).connections) == 2
        assert len(adapter_state(app).connections) == 0

    assert (poked["event"], poked["seq"], poked["recipient_id"], poked["payload"]) == (
        "note",
        2,
        "alice",
        {"from": "2"},
    )
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
