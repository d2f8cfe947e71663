"""ClusterSet expansion: one Cluster per matrix combination, placeholders substituted, exclusions left out."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from fleetc import DiskTree, validate_tree
from fleetc.schema.cluster import ClusterDocument
from tests.builders import FleetBuilder, assert_valid, cluster_set_doc

EXPLICIT = ["eu-1", "eu-2"]
EXAMPLE_FLEET = Path(__file__).parents[2] / "examples" / "fleet"


def _template(**spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "${region}-${env}", "labels": {"ring": "broad", "region": "${region}"}},
        "spec": {"class": "standard", "provider": "local", **spec},
    }


def _generated(matrix: dict[str, Any], template: dict[str, Any], **spec: Any) -> dict[str, ClusterDocument]:
    result = FleetBuilder.minimal().add("sets.yaml", cluster_set_doc("apps", matrix, template, **spec)).validate()
    assert_valid(result)
    assert result.fleet is not None
    return {k: e.document for k, e in result.fleet.clusters.items() if k not in EXPLICIT}


@pytest.mark.parametrize(
    ("regions", "envs"),
    [
        pytest.param(["eu"], ["qa"], id="1x1"),
        pytest.param(["eu", "us"], ["qa", "prod"], id="2x2"),
        pytest.param(["eu", "us", "ap"], ["qa", "staging", "prod", "dr"], id="3x4"),
    ],
)
def test_matrix_expands_to_every_combination(regions: list[str], envs: list[str]) -> None:
    clusters = _generated({"region": regions, "env": envs}, _template())
    expected = {f"{r}-{e}" for r, e in itertools.product(regions, envs)}
    assert set(clusters) == expected
    assert len(clusters) == len(regions) * len(envs)


def test_plain_placeholder_of_a_map_value_is_its_name() -> None:
    matrix = {"region": [{"name": "eu", "provider": "aws-eu"}], "env": ["qa"]}
    clusters = _generated(matrix, _template())
    assert list(clusters) == ["eu-qa"]
    assert clusters["eu-qa"].metadata.labels["region"] == "eu"


def test_keyed_placeholder_takes_the_key_of_a_map_value() -> None:
    matrix = {"region": [{"name": "eu", "provider": "aws-eu"}, {"name": "lab", "provider": "local"}], "env": ["qa"]}
    template = _template()
    template["spec"]["provider"] = "${region.provider}"
    clusters = _generated(matrix, template)
    assert {name: c.spec.provider for name, c in clusters.items()} == {"eu-qa": "aws-eu", "lab-qa": "local"}


@pytest.mark.parametrize(
    ("values", "written", "expected"),
    [
        pytest.param([1, 3, 5], "${env}", {"lab-1": 1, "lab-3": 3, "lab-5": 5}, id="whole-string-keeps-int"),
        pytest.param([{"name": "a", "cp": 3}], "${env.cp}", {"lab-a": 3}, id="whole-string-key-keeps-int"),
    ],
)
def test_whole_string_placeholder_keeps_the_parameter_type(
    values: list[Any], written: str, expected: dict[str, int]
) -> None:
    clusters = _generated({"region": ["lab"], "env": values}, _template(controlPlane={"replicas": written}))
    assert {name: c.spec.control_plane.replicas for name, c in clusters.items()} == expected


def test_placeholder_inside_a_longer_string_is_text() -> None:
    clusters = _generated({"region": ["eu"], "env": [7]}, _template(namespace="ns-${env}-${region}"))
    assert clusters["eu-7"].spec.namespace == "ns-7-eu"


def test_placeholders_in_keys_are_substituted() -> None:
    template = _template()
    template["metadata"]["labels"]["team-${env}"] = "yes-${region}"
    clusters = _generated({"region": ["eu"], "env": ["qa"]}, template)
    assert clusters["eu-qa"].metadata.labels["team-qa"] == "yes-eu"


@pytest.mark.parametrize(
    ("exclude", "left_out"),
    [
        pytest.param([{"region": "us", "env": "prod"}], {"us-prod"}, id="one-combination"),
        pytest.param([{"region": "us"}], {"us-qa", "us-prod"}, id="partial-match"),
        pytest.param([{"region": "us"}, {"env": "qa"}], {"us-qa", "us-prod", "eu-qa"}, id="two-rules"),
    ],
)
def test_exclude_leaves_out_matching_combinations(exclude: list[dict[str, str]], left_out: set[str]) -> None:
    clusters = _generated({"region": ["eu", "us"], "env": ["qa", "prod"]}, _template(), exclude=exclude)
    assert set(clusters) == {"eu-qa", "eu-prod", "us-qa", "us-prod"} - left_out


def test_an_exclude_value_that_is_no_matrix_value_is_an_error() -> None:
    """A typo in an exclude rule would otherwise silently exclude nothing."""
    document = cluster_set_doc(
        "apps", {"region": ["eu", "us"], "env": ["qa", "prod"]}, _template(), exclude=[{"region": "eu", "env": "prd"}]
    )
    result = FleetBuilder.minimal().add("sets.yaml", document).validate()
    [diagnostic] = result.diagnostics
    assert diagnostic.field == "spec.exclude[0].env"
    assert diagnostic.message == "'prd' is not a value of env (did you mean 'prod'?); this rule excludes nothing"


def test_exclude_matches_map_values_by_name() -> None:
    matrix = {"region": [{"name": "eu", "provider": "local"}, {"name": "us", "provider": "local"}], "env": ["qa"]}
    assert set(_generated(matrix, _template(), exclude=[{"region": "us"}])) == {"eu-qa"}


def test_example_fleet_generators_expand() -> None:
    result = validate_tree(DiskTree.open(EXAMPLE_FLEET))
    assert result.ok
    assert result.fleet is not None
    generated = {"eu-staging-1", "eu-qa-1", "us-staging-1", "us-qa-1"} | {f"store-010{i}" for i in range(1, 6)}
    assert generated <= set(result.fleet.clusters)
    store = result.fleet.clusters["store-0103"].document
    assert store.spec.control_plane_endpoint is not None
    assert store.spec.control_plane_endpoint.host == "10.20.3.10"
