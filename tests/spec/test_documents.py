"""Which documents a fleet holds: apiVersion and kind, the one Fleet in fleet.yaml, the provider type.

A file that is not a fleet document (a Kubernetes Deployment next to the fleet) is reported with the hint to
exclude it; a provider type typo is reported at ``spec.type`` with "did you mean".
"""

from __future__ import annotations

import pytest

from tests.builders import API, DEV_DOC, FLEET_DOC, FleetBuilder, assert_valid, at, only, position

DEPLOYMENT = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"replicas": 1}}
EXCLUDE_HINT = "list files that are not part of the fleet under spec.exclude in fleet.yaml"


def test_document_of_another_api_version_gets_the_exclude_hint() -> None:
    fleet = FleetBuilder.minimal().add("k8s/web.yaml", DEPLOYMENT)
    diagnostic = only(fleet.validate(), field="apiVersion")
    assert diagnostic.message == f"'apps/v1' is not a fleetc document (expected apiVersion {API}); {EXCLUDE_HINT}"
    assert at(diagnostic) == (
        "fleet/k8s/web.yaml",
        *position(fleet.text("k8s/web.yaml"), "apiVersion: apps/v1", value=True),
    )


def test_document_of_another_api_version_is_reported_once() -> None:
    """One foreign document is one mistake: the apiVersion line says it all, 'unknown kind' is noise."""
    result = FleetBuilder.minimal().add("k8s/web.yaml", DEPLOYMENT).validate()
    assert [d.field for d in result.diagnostics if d.location.path == "fleet/k8s/web.yaml"] == ["apiVersion"]


@pytest.mark.parametrize("pattern", ["k8s/*", "k8s", "k8s/", "*/web.yaml"])
def test_excluded_files_are_not_read(pattern: str) -> None:
    fleet = FleetBuilder.minimal().add("k8s/web.yaml", DEPLOYMENT).set("Fleet", None, "spec.exclude", [pattern])
    assert_valid(fleet.validate())


@pytest.mark.parametrize(
    ("api_version", "message"),
    [
        pytest.param(
            "fleetc.io/v1beta1", f"unsupported version 'fleetc.io/v1beta1'; this fleetc reads {API}", id="v1beta1"
        ),
        pytest.param(None, f"apiVersion is required: {API}", id="missing"),
    ],
)
def test_api_version_must_be_this_fleetc(api_version: str | None, message: str) -> None:
    fleet = FleetBuilder.minimal()
    if api_version is None:
        fleet.unset("Cluster", "eu-2", "apiVersion")
    else:
        fleet.set("Cluster", "eu-2", "apiVersion", api_version)
    diagnostic = only(fleet.validate(), field="apiVersion")
    assert diagnostic.message == message
    assert diagnostic.location.path == "fleet/clusters.yaml"


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        pytest.param("Clustr", "unknown kind 'Clustr' (did you mean 'Cluster'?)", id="typo"),
        pytest.param("ClusterSets", "unknown kind 'ClusterSets' (did you mean 'ClusterSet'?)", id="plural"),
        pytest.param("Widget", "unknown kind 'Widget'", id="unrelated"),
    ],
)
def test_unknown_kind_gets_did_you_mean(kind: str, message: str) -> None:
    fleet = FleetBuilder.minimal().set("Cluster", "eu-2", "kind", kind)
    diagnostic = only(fleet.validate(), field="kind")
    assert diagnostic.message == message
    assert at(diagnostic) == (
        "fleet/clusters.yaml",
        *position(fleet.text("clusters.yaml"), f"kind: {kind}", value=True),
    )


def test_missing_kind_lists_the_kinds() -> None:
    fleet = FleetBuilder.minimal().unset("Cluster", "eu-2", "kind")
    message = only(fleet.validate(), field="kind").message
    assert message == "kind is required; one of Fleet, ClusterClass, Provider, Cluster, ClusterSet"


def test_fleet_document_outside_fleet_yaml_is_an_error() -> None:
    second = {**FLEET_DOC, "metadata": {"name": "other"}}
    fleet = FleetBuilder.minimal().add("teams/fleet.yaml", second)
    diagnostic = only(fleet.validate(), field="kind")
    assert diagnostic.message == "the Fleet document belongs in fleet.yaml at the fleet root"
    assert at(diagnostic) == (
        "fleet/teams/fleet.yaml",
        *position(fleet.text("teams/fleet.yaml"), "kind: Fleet", value=True),
    )


def test_fleet_yaml_must_hold_a_fleet() -> None:
    fleet = FleetBuilder.minimal().remove("fleet.yaml").add("fleet.yaml", DEV_DOC)
    result = fleet.validate()
    assert result.fleet is None
    assert only(result, field="kind").message == "expected kind Fleet here, found Provider"


def test_fleet_yaml_with_two_documents_is_refused() -> None:
    fleet = FleetBuilder.minimal().add("fleet.yaml", FLEET_DOC)
    result = fleet.validate()
    assert result.fleet is None
    assert only(result).message == "fleet.yaml must hold exactly one Fleet document (found 2)"


def test_a_tree_without_fleet_yaml_is_not_a_fleet() -> None:
    result = FleetBuilder.minimal().remove("fleet.yaml").validate()
    assert result.fleet is None
    assert "no fleet.yaml here: not a fleet root" in only(result).message


def test_document_that_is_not_a_mapping_is_an_error() -> None:
    fleet = FleetBuilder.minimal().raw("extra.yaml", "- just\n- a list\n")
    diagnostic = only(fleet.validate())
    assert diagnostic.message == "a fleet document must be a mapping with apiVersion, kind, metadata and spec"
    assert at(diagnostic) == ("fleet/extra.yaml", 1, 1)


@pytest.mark.parametrize(
    ("written", "suggestion"),
    [
        pytest.param("awz", " (did you mean 'aws'?)", id="aws"),
        pytest.param("vshpere", " (did you mean 'vsphere'?)", id="vsphere"),
        pytest.param("dev-dokcer", " (did you mean 'dev-docker'?)", id="dev-docker"),
        pytest.param("kubevirt", "", id="unrelated"),
    ],
)
def test_provider_type_typo_is_reported_at_spec_type(written: str, suggestion: str) -> None:
    fleet = FleetBuilder.minimal().set("Provider", "aws-eu", "spec.type", written)
    diagnostic = only(fleet.validate(), field="spec.type")
    types = "dev-docker, dev-inmemory, aws, azure, vsphere, openstack, gcp"
    assert diagnostic.message == f"'{written}' is not a known type{suggestion}; one of: {types}"
    assert at(diagnostic) == (
        "fleet/providers.yaml",
        *position(fleet.text("providers.yaml"), f"type: {written}", value=True),
    )


def test_provider_without_type_says_the_type_is_missing() -> None:
    """Not pydantic's "Unable to extract tag using discriminator 'type'": name the field and the choices."""
    fleet = FleetBuilder.minimal().unset("Provider", "local", "spec.type")
    diagnostic = only(fleet.validate(), field="spec.type")
    assert "missing" in diagnostic.message
    assert "dev-docker" in diagnostic.message


@pytest.mark.parametrize("provider_type", ["dev-docker", "dev-inmemory"])
def test_dev_provider_needs_nothing_but_its_type(provider_type: str) -> None:
    assert_valid(FleetBuilder.minimal().set("Provider", "local", "spec.type", provider_type).validate())
