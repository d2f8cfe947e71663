"""The JSON Schema of the spec, for editors (yaml-language-server) and other tools.

Caller: ``fleetc schema``. The schema is generated from the same pydantic models that validate, so it
cannot drift from what ``fleetc validate`` accepts (the semantic rules are not expressible in it).
"""

from __future__ import annotations

from typing import Annotated, Any, Union

from pydantic import Field, TypeAdapter

from fleetc.schema.base import API_VERSION
from fleetc.schema.documents import KINDS

SCHEMA_BASE = "https://fleetc.io/schemas/v1alpha1"


def _require_identity(schema: dict[str, Any]) -> dict[str, Any]:
    """apiVersion and kind have defaults in the models but every written document must state them."""
    required = [field for field in ("apiVersion", "kind") if field not in schema.get("required", [])]
    return {**schema, "required": [*required, *schema.get("required", [])]}


def json_schema(kind: str | None = None) -> dict[str, Any]:
    """The schema of one kind, or of any fleet document (a union keyed by ``kind``)."""
    if kind is not None:
        schema = _require_identity(KINDS[kind].model_json_schema(by_alias=True, mode="validation"))
    else:
        union: Any = Annotated[Union[tuple(KINDS.values())], Field(discriminator="kind")]  # noqa: UP007
        schema = TypeAdapter[Any](union).json_schema(by_alias=True, mode="validation")
        for name in KINDS:
            schema["$defs"][f"{name}Document"] = _require_identity(schema["$defs"][f"{name}Document"])
    return {
        **schema,
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{SCHEMA_BASE}/{(kind or 'document').lower()}.json",
        "title": f"fleetc {API_VERSION} {kind or 'document'}",
    }
