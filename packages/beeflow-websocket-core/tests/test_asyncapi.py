"""The contract as an AsyncAPI document (beeflow_websocket.core.asyncapi)."""

import json
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any, get_args

import pytest
from contract_app import define
from pydantic import BaseModel, Field, WithJsonSchema

from beeflow_websocket.core.action_registry import Action, ActionContext
from beeflow_websocket.core.asyncapi import BUILTIN_PROBLEMS, asyncapi_document
from beeflow_websocket.core.event_registry import Event
from beeflow_websocket.core.payloads import ActionMessage
from beeflow_websocket.core.problems import BuiltinProblemCode
from beeflow_websocket.core.testing import isolated_registries


@pytest.fixture
def document() -> Iterator[dict[str, Any]]:
    with isolated_registries():
        define()
        yield asyncapi_document(title="Shop", version="2.1.0", path="/socket/")


def resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


def reply_names(document: dict[str, Any], operation: str) -> list[str]:
    return [
        resolve(document, ref["$ref"])["$ref"].rsplit("/", 1)[1]
        for ref in document["operations"][operation]["reply"]["messages"]
    ]


def test_every_reference_resolves_and_the_text_is_deterministic(document: dict[str, Any]) -> None:
    for ref in refs(document):
        resolve(document, ref)
    with isolated_registries():
        define()
        again = asyncapi_document(title="Shop", version="2.1.0", path="/socket/")
    assert json.dumps(again) == json.dumps(document)
    assert (
        document["asyncapi"],
        document["info"]["title"],
        document["channels"]["websocket"]["address"],
    ) == (
        "3.0.0",
        "Shop",
        "/socket/",
    )


def test_an_action_is_a_receive_operation_replying_with_its_annotated_events_and_problems(
    document: dict[str, Any],
) -> None:
    operation = document["operations"]["order.place"]

    assert operation["action"] == "receive"
    assert operation["summary"] == "Place an order; streams its progress, then its receipt."
    assert reply_names(document, "order.place") == [
        "event.order.progress",
        "event.order.placed",
        "event.beeflow.complete",
        "problem.out_of_stock",
        "problem.invalid_action_payload",
        "problem.internal_error",
        "problem.delivery_unavailable",
        "problem.request_cancelled",
        "problem.action_timeout",
    ]
    stream = operation["x-beeflow-stream"]
    assert stream["events"] == ["order.progress", "order.placed"]
    assert stream["timeout_seconds"] == 5
    assert "exactly one terminal frame" in stream["rule"]


def test_an_action_annotated_with_no_registered_event_may_answer_with_any(document: dict[str, Any]) -> None:
    stream = document["operations"]["shop.anything"]["x-beeflow-stream"]

    assert stream["events_declared"] is False
    assert set(stream["events"]) >= {"health", "shop.note", "order.placed", "order.progress"}
    assert "problem.invalid_action_payload" not in reply_names(
        document, "shop.anything"
    )  # untyped: never refused


def test_payload_schemas_come_from_the_models_normalised_for_asyncapi(document: dict[str, Any]) -> None:
    messages, schemas = document["components"]["messages"], document["components"]["schemas"]
    envelope = messages["action.order.place"]["payload"]
    order = resolve(document, envelope["properties"]["payload"]["$ref"])
    placed = messages["event.order.placed"]["payload"]

    assert envelope["properties"]["action"] == {"type": "string", "const": "order.place"}
    assert order["properties"]["quantity"] == {
        "maximum": 10,
        "minimum": 1,
        "title": "Quantity",
        "type": "integer",
    }
    assert order["properties"]["payment"]["discriminator"] == "kind"
    assert schemas["Transfer"]["properties"]["reference"]["items"][1] == {"type": "integer"}
    assert "prefixItems" not in json.dumps(document)
    assert "$defs" not in json.dumps(document)
    assert resolve(document, placed["properties"]["payload"]["$ref"])["required"] == ["order_id", "total"]
    assert messages["event.shop.note"]["payload"]["properties"]["payload"] == {
        "type": "object",
        "additionalProperties": True,
    }
    assert messages["action.shop_echo"]["payload"]["properties"]["action"]["const"] == "shop/echo"


class Inner(BaseModel):
    value: int


class Awkward(BaseModel):
    """Field names and defaults that look like JSON Schema keywords, and 2020-12-only shapes."""

    discriminator: dict[str, str] = {"propertyName": "kind"}
    prefixItems: list[int] = []  # noqa: N815 - the point: a field named after a keyword
    options: dict[str, object] = {"prefixItems": [1], "discriminator": {"mapping": {}}}
    inner: Inner = Field(description="Described beside its $ref.")
    head_then_rest: Annotated[
        list[Any],
        WithJsonSchema({"type": "array", "prefixItems": [{"type": "integer"}], "items": {"type": "string"}}),
    ]


def test_normalising_touches_schemas_only_and_keeps_what_draft_07_would_ignore() -> None:
    with isolated_registries():

        class Shaped(Event[Awkward], name="awkward.shaped"):
            pass

        class Shape(Action[Awkward], name="awkward.shape"):
            async def execute(
                self, message: ActionMessage[Awkward], context: ActionContext
            ) -> AsyncIterator[Shaped]:
                return
                yield

        document: dict[str, Any] = asyncapi_document()

    properties = document["components"]["schemas"]["Awkward"]["properties"]
    assert properties["discriminator"]["default"] == {"propertyName": "kind"}
    assert properties["prefixItems"]["items"] == {"type": "integer"}
    assert properties["options"]["default"] == {"prefixItems": [1], "discriminator": {"mapping": {}}}
    assert properties["inner"] == {
        "allOf": [{"$ref": "#/components/schemas/Inner"}],
        "description": "Described beside its $ref.",
    }
    assert properties["head_then_rest"] == {
        "title": "Head Then Rest",
        "type": "array",
        "items": [{"type": "integer"}],
        "additionalItems": {"type": "string"},
    }
    assert reply_names(document, "awkward.shape")[0] == "event.awkward.shaped"
    for ref in refs(document):
        resolve(document, ref)


def test_every_built_in_problem_is_a_message() -> None:
    document: dict[str, Any] = asyncapi_document()
    messages = document["components"]["messages"]

    assert {problem.code for problem in BUILTIN_PROBLEMS} == set(get_args(BuiltinProblemCode))
    for problem in BUILTIN_PROBLEMS:
        assert messages[f"problem.{problem.code}"]["summary"] == f"{problem.status} {problem.title}"


def test_problems_are_messages_with_their_status_code_and_title(document: dict[str, Any]) -> None:
    problem = document["components"]["messages"]["problem.out_of_stock"]

    assert problem["summary"] == "409 Out of stock"
    assert problem["payload"]["properties"]["status"] == {"type": "integer", "const": 409}
    assert problem["payload"]["properties"]["code"] == {"type": "string", "const": "out_of_stock"}
    assert (
        "errors"
        in document["components"]["messages"]["problem.invalid_action_payload"]["payload"]["properties"]
    )


def test_pushes_reserved_actions_correlation_and_the_access_token_are_described(
    document: dict[str, Any],
) -> None:
    operations = document["operations"]

    assert operations["push.user"]["action"] == operations["push.group"]["action"] == "send"
    assert reply_names(document, "beeflow.cancel") == [
        "event.beeflow.complete",
        "problem.unknown_request",
        "problem.invalid_action_payload",
    ]
    assert reply_names(document, "beeflow.ping") == ["event.beeflow.complete"]
    assert reply_names(document, "beeflow.refresh") == [
        "event.beeflow.complete",
        "problem.token_refused",
        "problem.invalid_action_payload",
    ]
    expiring = operations["beeflow.token_expiring"]
    assert expiring["action"] == "send"
    assert expiring["messages"] == [{"$ref": "#/channels/websocket/messages/event.beeflow.token_expiring"}]
    notice = document["components"]["messages"]["event.beeflow.token_expiring"]["payload"]
    assert notice["properties"]["payload"]["required"] == ["expires_in"]
    assert document["components"]["correlationIds"]["reqId"]["location"] == "$message.payload#/req_id"
    scheme = document["components"]["securitySchemes"]["accessToken"]
    assert (scheme["type"], scheme["name"], scheme["in"]) == (
        "httpApiKey",
        "Sec-WebSocket-Protocol",
        "header",
    )
    assert "servers" not in document


def test_the_close_codes_say_which_a_client_must_not_reconnect_after(document: dict[str, Any]) -> None:
    codes = document["channels"]["websocket"]["x-beeflow-close-codes"]

    assert {code: described["reconnect"] for code, described in codes.items()} == {
        "1013": True,
        "4408": True,
        "4409": False,
        "4429": True,
        "4410": True,
        "4440": True,
    }


def test_a_server_given_is_written_with_the_security_scheme() -> None:
    servers = asyncapi_document(servers={"production": {"host": "example.com", "protocol": "wss"}})["servers"]

    assert servers == {
        "production": {
            "host": "example.com",
            "protocol": "wss",
            "security": [{"$ref": "#/components/securitySchemes/accessToken"}],
        }
    }


def test_an_action_with_rate_limits_of_its_own_may_answer_rate_limited() -> None:
    with isolated_registries():

        class Search(Action, name="shop.search", user_rate_limit="5/min"):
            async def execute(self, message: ActionMessage, context: ActionContext) -> AsyncIterator[Event]:
                return
                yield

        document = asyncapi_document()

    assert "problem.rate_limited" in reply_names(document, "shop.search")
    assert "problem.rate_limited" not in reply_names(document, "health")
    messages: Any = document["components"]
    assert messages["messages"]["problem.rate_limited"]["summary"] == "429 Too many requests"
