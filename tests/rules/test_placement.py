"""Placement on a provider: sizes mapped by the cluster's provider (dev providers without sizes take any),
pinned failure domains exist, vSphere clusters have a control-plane endpoint and endpoints are unique.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.builders import VSPHERE_DOC, FleetBuilder, assert_valid, at, only, position


def test_class_size_the_provider_does_not_map_is_reported_at_the_class_reference() -> None:
    fleet = FleetBuilder.minimal().set("ClusterClass", "standard", "spec.workers.general.size", "xlarge")
    fleet.set("Cluster", "eu-2", "spec.provider", "local")
    diagnostic = only(fleet.validate(), field="spec.class")
    assert diagnostic.message == "size 'xlarge' is not mapped by provider aws-eu (sizes: medium, large)"
    assert at(diagnostic) == (
        "fleet/clusters.yaml",
        *position(fleet.text("clusters.yaml"), "class: standard", value=True),
    )


@pytest.mark.parametrize(
    ("override", "field", "key"),
    [
        pytest.param({"workers": {"general": {"size": "huge"}}}, "spec.workers.general.size", "size: huge", id="pool"),
        pytest.param({"controlPlane": {"size": "huge"}}, "spec.controlPlane.size", "size: huge", id="control-plane"),
    ],
)
def test_overridden_size_is_reported_at_the_override(override: dict[str, Any], field: str, key: str) -> None:
    fleet = FleetBuilder.minimal()
    for name, value in override.items():
        fleet.set("Cluster", "eu-1", ["spec", name], value)
    diagnostic = only(fleet.validate(), field=field)
    assert diagnostic.message == "size 'huge' is not mapped by provider aws-eu (sizes: medium, large)"
    assert at(diagnostic) == ("fleet/clusters.yaml", *position(fleet.text("clusters.yaml"), key, value=True))


def test_dev_provider_without_sizes_accepts_any_size() -> None:
    fleet = FleetBuilder.minimal().set("ClusterClass", "standard", "spec.workers.general.size", "xlarge")
    fleet.set("Cluster", "eu-1", "spec.provider", "local").set("Cluster", "eu-2", "spec.provider", "local")
    assert_valid(fleet.validate())


def test_dev_provider_with_sizes_must_map_the_sizes_used() -> None:
    fleet = FleetBuilder.minimal().set("Provider", "local", "spec.sizes", {"medium": "m"})
    fleet.set("Cluster", "eu-1", "spec.provider", "local")
    diagnostic = only(fleet.validate(), field="spec.class")
    assert diagnostic.message == "size 'large' is not mapped by provider local (sizes: medium)"


def test_cloud_provider_must_map_sizes() -> None:
    fleet = FleetBuilder.minimal().unset("Provider", "aws-eu", "spec.sizes")
    fleet.set("Cluster", "eu-1", "spec.provider", "local").set("Cluster", "eu-2", "spec.provider", "local")
    diagnostic = only(fleet.validate(), field="spec.sizes")
    assert "must map sizes to machine types" in diagnostic.message
    assert diagnostic.location.path == "fleet/providers.yaml"


def test_failure_domain_listed_twice_is_reported() -> None:
    fleet = FleetBuilder.minimal().set("Provider", "aws-eu", "spec.failureDomains", ["a", "b", "a"])
    assert only(fleet.validate(), field="spec.failureDomains").message == "failure domain 'a' is listed twice"


def test_pinned_failure_domain_must_be_one_of_the_provider() -> None:
    fleet = FleetBuilder.minimal().set("Cluster", "eu-1", "spec.workers", {"general": {"failureDomain": "eu-west-1z"}})
    diagnostic = only(fleet.validate(), field="spec.workers.general.failureDomain")
    assert diagnostic.message == "'eu-west-1z' is not a failure domain of provider aws-eu"
    where = position(fleet.text("clusters.yaml"), "failureDomain: eu-west-1z", value=True)
    assert at(diagnostic) == ("fleet/clusters.yaml", *where)


def test_pinned_failure_domain_of_the_provider_is_accepted() -> None:
    fleet = FleetBuilder.minimal().set("Cluster", "eu-1", "spec.workers", {"general": {"failureDomain": "eu-west-1b"}})
    assert_valid(fleet.validate())


def _on_vsphere(*endpoints: dict[str, Any] | None) -> FleetBuilder:
    fleet = FleetBuilder.minimal().add("providers.yaml", VSPHERE_DOC)
    for name, endpoint in zip(("eu-1", "eu-2"), endpoints, strict=True):
        fleet.set("Cluster", name, "spec.provider", "vsphere-dc1")
        if endpoint is not None:
            fleet.set("Cluster", name, "spec.controlPlaneEndpoint", endpoint)
    return fleet


def test_vsphere_cluster_needs_a_control_plane_endpoint() -> None:
    fleet = _on_vsphere({"host": "10.0.0.1"}, None)
    diagnostic = only(fleet.validate(), field="spec.controlPlaneEndpoint")
    assert diagnostic.message == "a vSphere cluster needs a controlPlaneEndpoint (its API address)"
    line, _ = position(fleet.text("clusters.yaml"), "class: standard", occurrence=2)
    assert diagnostic.location.line == line


@pytest.mark.parametrize(
    "endpoints",
    [
        pytest.param(({"host": "10.0.0.1"}, {"host": "10.0.0.2"}), id="different-hosts"),
        pytest.param(({"host": "10.0.0.1"}, {"host": "10.0.0.1", "port": 7443}), id="same-host-other-port"),
    ],
)
def test_vsphere_clusters_with_their_own_endpoints_are_accepted(endpoints: tuple[dict[str, Any], ...]) -> None:
    assert_valid(_on_vsphere(*endpoints).validate())


def test_endpoints_are_unique() -> None:
    fleet = _on_vsphere({"host": "10.0.0.1"}, {"host": "10.0.0.1", "port": 6443})
    diagnostic = only(fleet.validate(), field="spec.controlPlaneEndpoint.host")
    assert diagnostic.message == "10.0.0.1:6443 is already the endpoint of cluster eu-1"
    assert at(diagnostic) == (
        "fleet/clusters.yaml",
        *position(fleet.text("clusters.yaml"), "host: 10.0.0.1", 2, value=True),
    )


def test_non_vsphere_cluster_needs_no_endpoint() -> None:
    assert_valid(FleetBuilder.minimal().validate())
