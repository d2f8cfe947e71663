"""The JSON Schema of the spec, for editors (yaml-language-server) and other tools.

Caller: ``fleetc schema``. The schema is generated from the same pydantic models that validate, so it cannot drift
from what ``fleetc validate`` accepts; the field types carry their patterns and bounds (names, versions, durations,
label keys and values, CIDRs, percentages, int32 counts). :data:`RULES` adds the rules of one document that JSON
Schema can state but pydantic does not export: mutual exclusions (``not``/``oneOf``), a selector's values by
operator (``if``/``then``), odd control planes, lists without duplicates (``uniqueItems``). Rules across documents
(references, waves, channels, versions in order, overlapping networks, names fleetc generates) and a few within
one (autoscaling min ≤ max, wave and add-on names unique, host bits of a CIDR) need ``fleetc validate``; the list is
in ``docs/output.md`` ("fleetc schema").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Union

from pydantic import Field, TypeAdapter

from fleetc.schema.base import API_VERSION
from fleetc.schema.documents import KINDS

SCHEMA_BASE = "https://fleetc.io/schemas/v1alpha1"
Rule = Callable[[dict[str, Any]], None]


def _set(*fields: str) -> dict[str, Any]:
    """Matches an object where each field is present and not null."""
    return {"required": list(fields), "properties": {f: {"not": {"type": "null"}} for f in fields}}


def _not_both(first: str, second: str) -> Rule:
    def rule(definition: dict[str, Any]) -> None:
        definition["not"] = _set(first, second)

    return rule


def _exactly_one(first: str, second: str) -> Rule:
    def rule(definition: dict[str, Any]) -> None:
        definition["oneOf"] = [_set(first), _set(second)]

    return rule


def _values_by_operator(definition: dict[str, Any]) -> None:
    definition["if"] = {"properties": {"operator": {"enum": ["In", "NotIn"]}}, "required": ["operator"]}
    definition["then"] = {"required": ["values"], "properties": {"values": {"minItems": 1}}}
    definition["else"] = {"properties": {"values": {"maxItems": 0}}}


def _odd_replicas(definition: dict[str, Any]) -> None:
    definition["properties"]["replicas"]["not"] = {"multipleOf": 2}


def _unique(*path: str) -> Rule:
    def rule(definition: dict[str, Any]) -> None:
        node = definition
        for step in path:
            node = node[step]
        node["uniqueItems"] = True

    return rule


def _matrix(definition: dict[str, Any]) -> None:
    matrix = definition["properties"]["matrix"]
    matrix["propertyNames"] = {"pattern": r"^[A-Za-z_][A-Za-z0-9_]*$"}
    matrix["additionalProperties"] |= {"minItems": 1, "uniqueItems": True}


def _controller_identity(definition: dict[str, Any]) -> None:
    definition["if"] = {"properties": {"kind": {"const": "AWSClusterControllerIdentity"}}, "required": ["kind"]}
    definition["then"] = {"properties": {"name": {"const": "default"}}}


RULES: dict[str, tuple[Rule, ...]] = {
    "ClusterSpec": (_not_both("version", "channel"),),
    "PoolOverride": (_not_both("replicas", "autoscaling"),),
    "WorkerPool": (_exactly_one("replicas", "autoscaling"),),
    "SelectorRequirement": (_values_by_operator,),
    "ControlPlane": (_odd_replicas,),
    "VersionPolicy": (_unique("properties", "catalogue"),),
    "ClusterSetSpec": (_matrix,),
    "AwsCredentialsRef": (_controller_identity,),
}
"""``$defs`` name → the rules added to it (a test checks each name is still a definition of the schema).
Every provider spec's ``failureDomains`` is also made ``uniqueItems``."""


def _require_identity(schema: dict[str, Any]) -> dict[str, Any]:
    """apiVersion and kind have defaults in the models but every written document must state them."""
    required = [field for field in ("apiVersion", "kind") if field not in schema.get("required", [])]
    return {**schema, "required": [*required, *schema.get("required", [])]}


def _key_patterns(node: Any) -> None:
    """Maps whose keys have a pattern (label keys): pydantic exports ``patternProperties``, which lets any other key
    through; state the pattern in ``propertyNames`` instead, so a bad key is an error."""
    if isinstance(node, dict):
        patterns = node.get("patternProperties")
        if isinstance(patterns, dict) and len(patterns) == 1 and "propertyNames" in node:
            [(pattern, values)] = patterns.items()
            node["propertyNames"] = {**node["propertyNames"], "pattern": pattern}
            node["additionalProperties"] = values
            del node["patternProperties"]
        for value in node.values():
            _key_patterns(value)
    elif isinstance(node, list):
        for item in node:
            _key_patterns(item)


def _tighten(schema: dict[str, Any]) -> dict[str, Any]:
    _key_patterns(schema)
    definitions = schema.get("$defs", {})
    for name, rules in RULES.items():
        if name in definitions:
            for rule in rules:
                rule(definitions[name])
    for definition in definitions.values():
        if "failureDomains" in definition.get("properties", {}):
            _unique("properties", "failureDomains")(definition)
    return schema


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
        **_tighten(schema),
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{SCHEMA_BASE}/{(kind or 'document').lower()}.json",
        "title": f"fleetc {API_VERSION} {kind or 'document'}",
    }
