"""``fleetc schema``: a Draft 2020-12 JSON Schema for editors that accepts every document of the example fleet
and rejects unknown fields; ``--kind`` narrows it to one kind.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from fleetc.cli.main import cli
from fleetc.schema.documents import KINDS
from tests.cli.conftest import EXAMPLE_FLEET, RunFleetc
from tests.cli.yaml12 import Yaml12Loader

EXAMPLES: list[tuple[str, dict[str, Any]]] = [
    (f"{path.relative_to(EXAMPLE_FLEET)}:{document['metadata']['name']}", document)
    for path in sorted(EXAMPLE_FLEET.rglob("*.yaml"))
    if path.relative_to(EXAMPLE_FLEET).parts[0] != "addons"  # add-on manifests, excluded by fleet.yaml
    for document in yaml.load_all(path.read_text(), Loader=Yaml12Loader)
]
EXAMPLE_DOCUMENTS = [pytest.param(document, id=shown) for shown, document in EXAMPLES]


def _validator(fleetc: RunFleetc, *args: str) -> jsonschema.Draft202012Validator:
    result = fleetc("schema", *args)
    assert result.exit_code == 0, result.output
    schema = json.loads(result.stdout)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.fixture(scope="module")
def any_document() -> jsonschema.Draft202012Validator:
    """The validator of ``fleetc schema`` output, built once for the module."""
    result = CliRunner().invoke(cli, ["schema"])
    return jsonschema.Draft202012Validator(json.loads(result.stdout))


def test_schema_command_prints_a_draft_2020_12_schema(fleetc: RunFleetc) -> None:
    _validator(fleetc)


def test_example_fleet_has_every_kind() -> None:
    assert {d["kind"] for _, d in EXAMPLES} == set(KINDS)


@pytest.mark.parametrize("document", EXAMPLE_DOCUMENTS)
def test_schema_accepts_every_example_document(any_document: jsonschema.Draft202012Validator, document: Any) -> None:
    assert [e.message for e in any_document.iter_errors(document)] == []


def _first(kind: str) -> dict[str, Any]:
    return copy.deepcopy(next(d for _, d in EXAMPLES if d["kind"] == kind))


@pytest.mark.parametrize(
    ("kind", "path", "key"),
    [
        pytest.param("Cluster", ["spec"], "replcas", id="cluster-spec"),
        pytest.param("Cluster", [], "specs", id="top-level"),
        pytest.param("Fleet", ["spec", "versions"], "chainedUpgrade", id="fleet-versions"),
        pytest.param("Provider", ["spec", "settings"], "sshKeyNme", id="provider-settings"),
        pytest.param("ClusterClass", ["spec", "controlPlane"], "sise", id="class-control-plane"),
        pytest.param("Cluster", ["spec"], "control_plane", id="python-name"),
    ],
)
def test_schema_rejects_an_unknown_field(
    any_document: jsonschema.Draft202012Validator, kind: str, path: list[str], key: str
) -> None:
    document = _first(kind)
    target = document
    for step in path:
        target = target[step]
    target[key] = 1
    assert not any_document.is_valid(document)


@pytest.mark.parametrize(
    ("kind", "path", "value"),
    [
        pytest.param("Cluster", ["metadata", "name"], "EU_1", id="name"),
        pytest.param("Cluster", ["spec", "version"], "1.34.2", id="version"),
        pytest.param("Fleet", ["spec", "rollout", "waves", 0, "soak"], "1d", id="duration"),
        pytest.param("Fleet", ["spec", "rollout", "waves", 0, "maxConcurrent"], "all", id="amount"),
        pytest.param("Provider", ["spec", "type"], "awz", id="provider-type"),
    ],
)
def test_schema_rejects_a_malformed_value(
    any_document: jsonschema.Draft202012Validator, kind: str, path: list[str | int], value: Any
) -> None:
    document = _first(kind)
    *parents, last = path
    target: Any = document
    for step in parents:
        target = target[step]
    target[last] = value
    assert not any_document.is_valid(document)


def test_kind_option_narrows_the_schema_to_one_kind(fleetc: RunFleetc) -> None:
    validator = _validator(fleetc, "--kind", "Cluster")
    assert validator.is_valid(_first("Cluster"))
    assert not validator.is_valid(_first("Provider"))
    schema = validator.schema
    assert not isinstance(schema, bool)
    assert set(schema["required"]) >= {"metadata", "spec"}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_kind_schema_accepts_its_examples(fleetc: RunFleetc, kind: str) -> None:
    validator = _validator(fleetc, "--kind", kind)
    examples = [d for _, d in EXAMPLES if d["kind"] == kind]
    assert examples
    assert all(validator.is_valid(d) for d in examples)


def test_kind_schema_title_names_fleetc_and_the_kind(fleetc: RunFleetc) -> None:
    """The title fleetc sets (``fleetc fleetc.io/v1alpha1 Cluster``) must not be replaced by pydantic's."""
    title = json.loads(fleetc("schema", "--kind", "Cluster").stdout)["title"]
    assert title.startswith("fleetc ")
    assert title.endswith(" Cluster")
