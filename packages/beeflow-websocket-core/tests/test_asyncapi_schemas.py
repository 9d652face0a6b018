from typing import Any

from pydantic import BaseModel, Field

from beeflow_websocket.core._asyncapi_schemas import model_schemas, normalised


def test_2020_12_keywords_become_what_draft_07_readers_know() -> None:
    schema: dict[str, Any] = {
        "$defs": {"Moved": {"type": "string"}},
        "type": "object",
        "properties": {
            "pet": {"oneOf": [{"$ref": "#/x/Cat"}], "discriminator": {"propertyName": "kind", "mapping": {}}},
            "pair": {
                "type": "array",
                "prefixItems": [{"type": "integer"}, {"type": "string"}],
                "maxItems": 2,
            },
            "head": {"type": "array", "prefixItems": [{"type": "integer"}], "items": {"type": "string"}},
            "owner": {"$ref": "#/x/Person", "description": "who"},
            "discriminator": {"type": "string", "default": {"$ref": "data, not a schema"}},
        },
        "dependencies": {"a": ["b"]},
        "not": True,
    }

    result = normalised(schema)

    assert "$defs" not in result
    assert result["properties"]["pet"]["discriminator"] == "kind"
    assert result["properties"]["pair"]["items"] == [{"type": "integer"}, {"type": "string"}]
    assert result["properties"]["pair"]["additionalItems"] is False
    assert result["properties"]["head"] == {
        "type": "array",
        "additionalItems": {"type": "string"},
        "items": [{"type": "integer"}],
    }
    assert result["properties"]["owner"] == {"allOf": [{"$ref": "#/x/Person"}], "description": "who"}
    assert result["properties"]["discriminator"] == schema["properties"]["discriminator"]
    assert result["dependencies"] == {"a": ["b"]}
    assert result["not"] is True


class Inner(BaseModel):
    n: int = Field(ge=0)


class Outer(BaseModel):
    inner: Inner


def test_models_share_their_definitions_under_the_prefix_given() -> None:
    refs, definitions = model_schemas([(Outer, "validation"), (Outer, "validation")], "#/components/schemas/")

    assert list(refs) == [(Outer, "validation")]
    assert sorted(definitions) == ["Inner", "Outer"]
    assert definitions["Outer"]["properties"]["inner"] == {"$ref": "#/components/schemas/Inner"}
    assert model_schemas([], "#/") == ({}, {})
