"""References resolve: class, provider, channel, default channel, pool names in overrides, class variables.

A reference to a document that failed its own validation is forgiven, so one typo is reported once.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.builders import FleetBuilder, assert_valid, at, only, position

REFERENCES = [
    pytest.param("spec.class", "standrd", "no ClusterClass 'standrd' (did you mean 'standard'?)", id="class-typo"),
    pytest.param("spec.class", "huge", "no ClusterClass 'huge'", id="class-unknown"),
    pytest.param("spec.provider", "aws-ue", "no Provider 'aws-ue' (did you mean 'aws-eu'?)", id="provider-typo"),
    pytest.param("spec.provider", "gcp-asia", "no Provider 'gcp-asia'", id="provider-unknown"),
    pytest.param("spec.channel", "stabel", "no channel 'stabel' (did you mean 'stable'?)", id="channel-typo"),
    pytest.param("spec.channel", "beta", "no channel 'beta'", id="channel-unknown"),
]


@pytest.mark.parametrize(("path", "value", "message"), REFERENCES)
def test_reference_to_nothing_is_reported_at_the_reference(path: str, value: str, message: str) -> None:
    fleet = FleetBuilder.minimal().set("Cluster", "eu-2", path, value)
    diagnostic = only(fleet.validate(), field=path)
    assert diagnostic.message == message
    key = path.rsplit(".", 1)[1]
    assert at(diagnostic) == (
        "fleet/clusters.yaml",
        *position(fleet.text("clusters.yaml"), f"{key}: {value}", value=True),
    )


@pytest.mark.parametrize(
    ("path", "value"),
    [
        pytest.param("spec.provider", "local", id="provider"),
        pytest.param("spec.channel", "rapid", id="channel"),
        pytest.param("spec.version", "v1.33.6", id="version"),
    ],
)
def test_references_that_resolve_are_accepted(path: str, value: str) -> None:
    assert_valid(FleetBuilder.minimal().set("Cluster", "eu-2", path, value).validate())


def test_reference_to_a_broken_document_is_forgiven() -> None:
    fleet = FleetBuilder.minimal().set("ClusterClass", "standard", "spec.controlPlane.replcas", 3)
    diagnostic = only(fleet.validate())
    assert diagnostic.field == "spec.controlPlane.replcas"


def test_default_channel_must_exist() -> None:
    fleet = FleetBuilder.minimal().set("Fleet", None, "spec.defaults.channel", "stabel")
    diagnostic = only(fleet.validate(), field="spec.defaults.channel")
    assert diagnostic.message == "no channel 'stabel' (did you mean 'stable'?)"
    assert at(diagnostic) == ("fleet/fleet.yaml", *position(fleet.text("fleet.yaml"), "channel: stabel", value=True))


def test_cluster_without_version_or_channel_needs_a_default_channel() -> None:
    fleet = (
        FleetBuilder.minimal().unset("Fleet", None, "spec.defaults").set("Cluster", "eu-2", "spec.channel", "stable")
    )
    diagnostic = only(fleet.validate())
    assert (diagnostic.field, diagnostic.message) == (
        "spec",
        "set version or channel (the fleet has no default channel)",
    )
    assert at(diagnostic) == ("fleet/clusters.yaml", *position(fleet.text("clusters.yaml"), "class: standard"))


@pytest.mark.parametrize(
    ("override", "message"),
    [
        pytest.param("genral", "class standard has no worker pool 'genral' (did you mean 'general'?)", id="typo"),
        pytest.param("gpu", "class standard has no worker pool 'gpu'", id="unknown"),
    ],
)
def test_pool_override_must_name_a_class_pool(override: str, message: str) -> None:
    fleet = FleetBuilder.minimal().set("Cluster", "eu-1", "spec.workers", {override: {"replicas": 2}})
    diagnostic = only(fleet.validate(), field=f"spec.workers.{override}")
    assert diagnostic.message == message
    assert at(diagnostic) == ("fleet/clusters.yaml", *position(fleet.text("clusters.yaml"), f"{override}:"))


def test_pool_override_of_a_class_pool_is_accepted() -> None:
    fleet = FleetBuilder.minimal().set("Cluster", "eu-1", "spec.workers", {"general": {"replicas": 7}})
    assert_valid(fleet.validate())


VARIABLES = {
    "mirror": {"type": "string"},
    "maxPods": {"type": "integer"},
    "ratio": {"type": "number"},
    "audit": {"type": "boolean"},
    "site": {"type": "string", "required": True},
}


def _with_variables(values: dict[str, Any]) -> FleetBuilder:
    fleet = FleetBuilder.minimal().set("ClusterClass", "standard", "spec.variables", VARIABLES)
    fleet.set("Cluster", "eu-1", "spec.variables", {"site": "a", **values})
    return fleet.set("Cluster", "eu-2", "spec.variables", {"site": "b"})


@pytest.mark.parametrize(
    "values",
    [
        pytest.param({"mirror": "registry.example.com"}, id="string"),
        pytest.param({"maxPods": 110}, id="integer"),
        pytest.param({"ratio": 0.5}, id="number-float"),
        pytest.param({"ratio": 2}, id="number-int"),
        pytest.param({"audit": False}, id="boolean"),
    ],
)
def test_declared_variables_of_the_right_type_are_accepted(values: dict[str, Any]) -> None:
    assert_valid(_with_variables(values).validate())


def test_undeclared_variable_gets_did_you_mean() -> None:
    fleet = _with_variables({"mirorr": "x"})
    diagnostic = only(fleet.validate(), field="spec.variables.mirorr")
    assert diagnostic.message == "class standard declares no variable 'mirorr' (did you mean 'mirror'?)"
    assert at(diagnostic) == ("fleet/clusters.yaml", *position(fleet.text("clusters.yaml"), "mirorr:"))


@pytest.mark.parametrize(
    ("name", "value", "wanted"),
    [
        pytest.param("mirror", 5, "string", id="int-for-string"),
        pytest.param("maxPods", "110", "integer", id="string-for-integer"),
        pytest.param("maxPods", 1.5, "integer", id="float-for-integer"),
        pytest.param("maxPods", True, "integer", id="bool-for-integer"),
        pytest.param("ratio", True, "number", id="bool-for-number"),
        pytest.param("audit", "no", "boolean", id="string-for-boolean"),
    ],
)
def test_variable_value_must_have_the_declared_type(name: str, value: Any, wanted: str) -> None:
    fleet = _with_variables({name: value})
    diagnostic = only(fleet.validate(), field=f"spec.variables.{name}")
    assert diagnostic.message == f"variable {name} must be of type {wanted}"


def test_required_variable_must_be_set() -> None:
    fleet = _with_variables({}).set("Cluster", "eu-2", "spec.variables", {"mirror": "m"})
    diagnostic = only(fleet.validate(), field="spec.variables")
    assert diagnostic.message == "class standard requires variable 'site'"
    line, _ = position(fleet.text("clusters.yaml"), "mirror: m")
    assert diagnostic.location.line == line


def test_required_variable_with_a_default_may_be_left_out() -> None:
    variables = {"site": {"type": "string", "required": True, "default": "hq"}}
    fleet = FleetBuilder.minimal().set("ClusterClass", "standard", "spec.variables", variables)
    assert_valid(fleet.validate())


@pytest.mark.parametrize(
    ("variable", "valid"),
    [
        pytest.param({"type": "string", "default": 5}, False, id="int-default-for-string"),
        pytest.param({"type": "boolean", "default": "no"}, False, id="string-default-for-boolean"),
        pytest.param({"type": "integer", "default": 3}, True, id="int-default-for-integer"),
        pytest.param({"type": "string", "default": ""}, True, id="empty-string-default"),
    ],
)
def test_variable_default_must_have_the_declared_type(variable: dict[str, Any], valid: bool) -> None:
    fleet = FleetBuilder.minimal().set("ClusterClass", "standard", "spec.variables", {"v": variable})
    result = fleet.validate()
    if valid:
        assert_valid(result)
    else:
        message = only(result, field="spec.variables.v.default").message
        assert message == f"default is not of type {variable['type']}"
