"""The CRDs rendered from the rollout models: structural (no ``$ref``, ``anyOf``, ``const``, titles or defaults; every
node typed) and byte-stable (a golden file; ``pytest tests/rollout/test_crds.py --update-golden`` rewrites it). That
the API server accepts them is tested in ``tests/kube/test_rollout_crds.py``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from fleetc.rollout import crds
from fleetc.rollout.model import ClusterRollout, FleetRevision, FleetRollout

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "rollout-crds" / "crds.yaml"
FORBIDDEN = {"$ref", "$defs", "anyOf", "oneOf", "allOf", "const", "title", "default"}


def _nodes(schema: dict[str, Any], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    yield path, schema
    for name, child in schema.get("properties", {}).items():
        yield from _nodes(child, f"{path}.{name}")
    if isinstance(schema.get("items"), dict):
        yield from _nodes(schema["items"], f"{path}[]")
    if isinstance(schema.get("additionalProperties"), dict):
        yield from _nodes(schema["additionalProperties"], f"{path}{{}}")


def test_every_schema_node_is_typed_and_uses_only_structural_keywords() -> None:
    for definition in crds.crds():
        schema = definition["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
        for path, node in _nodes(schema):
            assert "type" in node, f"{definition['spec']['names']['kind']}{path} has no type"
            assert not FORBIDDEN & node.keys(), f"{path}: {FORBIDDEN & node.keys()}"


def test_each_kind_keeps_the_fields_of_its_model() -> None:
    models: tuple[type[BaseModel], ...] = (FleetRollout, ClusterRollout, FleetRevision)
    for definition, model in zip(crds.crds(), models, strict=True):
        schema = definition["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
        assert set(schema["properties"]) == {f.alias or n for n, f in model.model_fields.items()}
        assert definition["spec"]["names"]["kind"] == model.model_fields["kind"].default


def test_optional_fields_are_nullable_and_embedded_objects_keep_every_field() -> None:
    rollout_schema, cluster_schema, _ = (d["spec"]["versions"][0]["schema"]["openAPIV3Schema"] for d in crds.crds())
    assert rollout_schema["properties"]["status"]["properties"]["haltReason"] == {"type": "string", "nullable": True}
    objects = cluster_schema["properties"]["spec"]["properties"]["objects"]
    assert objects["items"] == {"type": "object", "x-kubernetes-preserve-unknown-fields": True}


def test_the_rendered_crds_match_the_golden_file(update_golden: bool) -> None:
    rendered = yaml.safe_dump_all(crds.crds(), sort_keys=False)
    if update_golden:
        GOLDEN.write_text(rendered)
    assert GOLDEN.read_text() == rendered
