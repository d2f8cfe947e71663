"""Strict types: no coercion of YAML surprises, with a quoting hint where YAML 1.1 changed what was meant.

Also: every error is reported at once, across documents and files, never only the first.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.builders import FleetBuilder, assert_valid, at, only, position

QUOTE_HINT = "YAML reads unquoted yes/no/on/off/true/false as booleans and ~/null as null: quote it"


def _labelled(value: str) -> FleetBuilder:
    fleet = FleetBuilder.minimal()
    text = fleet.text("clusters.yaml").replace("    ring: canary\n", f"    ring: canary\n    pci: {value}\n", 1)
    return fleet.raw("clusters.yaml", text)


@pytest.mark.parametrize("value", ["no", "yes", "off", "true", "~", "null"])
def test_unquoted_yaml_boolean_or_null_as_label_value_gets_the_quoting_hint(value: str) -> None:
    fleet = _labelled(value)
    diagnostic = only(fleet.validate(), field="metadata.labels.pci")
    assert diagnostic.message.endswith(QUOTE_HINT)
    assert at(diagnostic) == (
        "fleet/clusters.yaml",
        *position(fleet.text("clusters.yaml"), f"pci: {value}", value=True),
    )


@pytest.mark.parametrize("value", ['"no"', "'yes'", "none", "nope"])
def test_quoted_or_plain_string_label_value_is_accepted(value: str) -> None:
    assert_valid(_labelled(value).validate())


@pytest.mark.parametrize(
    ("kind", "name", "path", "value", "fragment"),
    [
        pytest.param(
            "ClusterClass", "standard", "spec.controlPlane.replicas", "3", "valid integer", id="int-as-string"
        ),
        pytest.param("ClusterClass", "standard", "spec.controlPlane.replicas", 3.0, "valid integer", id="int-as-float"),
        pytest.param("ClusterClass", "standard", "spec.controlPlane.replicas", True, "valid integer", id="int-as-bool"),
        pytest.param(
            "ClusterClass",
            "standard",
            "spec.workers.general.spreadAcrossFailureDomains",
            "yes",
            "valid boolean",
            id="bool-as-string",
        ),
        pytest.param("Fleet", None, "spec.versions.chainedUpgrades", 1, "valid boolean", id="bool-as-int"),
        pytest.param("Provider", "aws-eu", "spec.region", 1, "valid string", id="string-as-int"),
        pytest.param("Fleet", None, "spec.versions.catalogue", "v1.34.2", "valid list", id="list-as-string"),
    ],
)
def test_values_are_not_coerced(kind: str, name: str | None, path: str, value: Any, fragment: str) -> None:
    assert fragment in only(FleetBuilder.minimal().set(kind, name, path, value).validate(), field=path).message


def test_every_error_is_reported_at_once_across_files() -> None:
    fleet = (
        FleetBuilder.minimal()
        .set("ClusterClass", "standard", "spec.controlPlane.replcas", 3)
        .set("Provider", "aws-eu", "spec.regoin", "x")
        .set("Provider", "local", "spec.sizes", "small")
        .set("Cluster", "eu-1", "spec.chanel", "stable")
        .set("Cluster", "eu-2", "spec.workers", {"general": {"replicas": "two"}})
    )
    found = {(d.location.path, d.field) for d in fleet.validate().diagnostics}
    assert found == {
        ("fleet/classes.yaml", "spec.controlPlane.replcas"),
        ("fleet/providers.yaml", "spec.regoin"),
        ("fleet/providers.yaml", "spec.sizes"),
        ("fleet/clusters.yaml", "spec.chanel"),
        ("fleet/clusters.yaml", "spec.workers.general.replicas"),
    }


def test_every_error_of_one_document_is_reported() -> None:
    fleet = (
        FleetBuilder.minimal()
        .set("Cluster", "eu-1", "spec.version", "1.34")
        .set("Cluster", "eu-1", "spec.controlPlane", {"replicas": 0})
        .set("Cluster", "eu-1", "metadata.name", "EU_1")
    )
    fields = sorted(d.field for d in fleet.validate().diagnostics)
    assert fields == ["metadata.name", "spec.controlPlane.replicas", "spec.version"]


def test_diagnostics_are_sorted_by_file_line_and_column() -> None:
    fleet = (
        FleetBuilder.minimal()
        .set("Cluster", "eu-2", "spec.zzz", 1)
        .set("Cluster", "eu-1", "spec.yyy", 1)
        .set("ClusterClass", "standard", "spec.xxx", 1)
    )
    locations = [d.location for d in fleet.validate().diagnostics]
    assert locations == sorted(locations)
    assert [loc.path for loc in locations] == ["fleet/classes.yaml", "fleet/clusters.yaml", "fleet/clusters.yaml"]
