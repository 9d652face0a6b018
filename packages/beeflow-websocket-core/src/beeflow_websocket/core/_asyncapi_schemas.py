"""pydantic's JSON Schema as AsyncAPI 3.0.0 reads it, for the contract document.

pydantic writes JSON Schema 2020-12 and AsyncAPI 3.0.0 reads a superset of draft-07, so the models'
schemas are normalised: definitions go to ``components/schemas``, a discriminated union's
``discriminator`` (an OpenAPI object) becomes its property name (AsyncAPI's string), a tuple's
``prefixItems`` becomes draft-07's array of ``items``, and a ``$ref`` with keywords beside it (a
field's description or default, which draft-07 would ignore) goes under ``allOf``.
"""

from __future__ import annotations

import typing
from collections.abc import Iterable
from typing import Any, Final

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

__all__ = ["model_schemas", "normalised"]


def model_schemas(
    models: Iterable[tuple[type[BaseModel], JsonSchemaMode]], ref_prefix: str
) -> tuple[dict[tuple[Any, str], Any], dict[str, Any]]:
    """Each model's schema (a reference, or the schema itself) and the shared definitions, normalised.

    Args:
        models: The models and the mode (validation or serialization) each is described in.
        ref_prefix: Where the definitions live, such as ``#/components/schemas/``.
    """
    unique = list(dict.fromkeys(models))
    if not unique:
        return {}, {}
    mapping, definitions = models_json_schema(unique, ref_template=ref_prefix + "{model}")
    refs: dict[tuple[Any, str], Any] = {}
    for (model, mode), schema in mapping.items():
        refs[(model, mode)] = normalised(dict(schema))
    schemas = {name: normalised(schema) for name, schema in sorted(definitions.get("$defs", {}).items())}
    return refs, typing.cast("dict[str, Any]", schemas)


# Where a JSON Schema keyword's value holds schemas: one (or, for draft-07's items, a list), a list,
# or a map of names to schemas. Every other keyword's value is data (a default, an example, an enum,
# a property's name) and is copied untouched: a field named ``discriminator`` or a default that
# holds a ``$ref`` key is not a schema.
_ONE_SCHEMA: Final = frozenset(
    {
        "additionalItems",
        "additionalProperties",
        "contains",
        "contentSchema",
        "else",
        "if",
        "items",
        "not",
        "propertyNames",
        "then",
        "unevaluatedItems",
        "unevaluatedProperties",
    }
)
_SCHEMA_LISTS: Final = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})
_SCHEMA_MAPS: Final = frozenset({"dependencies", "dependentSchemas", "patternProperties", "properties"})


def normalised(schema: Any) -> Any:
    """A pydantic JSON Schema (2020-12) as AsyncAPI 3.0.0's draft-07 superset reads it."""
    if isinstance(schema, list):  # draft-07's items, or a dependency's list of property names
        return [normalised(item) for item in schema]
    if not isinstance(schema, dict):  # a boolean schema, or a name
        return schema
    result: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "$defs":
            continue  # moved to components/schemas by the caller
        if key in _ONE_SCHEMA or key in _SCHEMA_LISTS:
            result[key] = normalised(value)
        elif key in _SCHEMA_MAPS and isinstance(value, dict):
            result[key] = {name: normalised(member) for name, member in value.items()}
        else:
            result[key] = value
    discriminator = result.get("discriminator")
    if isinstance(discriminator, dict) and "propertyName" in discriminator:
        result["discriminator"] = discriminator["propertyName"]  # OpenAPI's object, AsyncAPI's string
    if "prefixItems" in result:
        prefix = result.pop("prefixItems")
        if "items" in result:  # 2020-12's items is the schema of the items after the prefix
            result["additionalItems"] = result.pop("items")
        elif result.get("maxItems") == len(prefix):
            result["additionalItems"] = False  # what maxItems says, in the words tuple readers know
        result["items"] = prefix
    if "$ref" in result and len(result) > 1:
        # Draft-07 ignores every keyword beside $ref, so a field's description or default would be
        # lost to its readers; under allOf they apply.
        result = {"allOf": [{"$ref": result.pop("$ref")}], **result}
    return result
