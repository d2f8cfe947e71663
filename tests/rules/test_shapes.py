"""Cluster shapes: odd control planes (etcd quorum), disjoint pod and service networks, and pool sizing
(replicas or autoscaling bounds) — for the class and for each cluster after its overrides.
"""

from __future__ import annotations

from typing import Any

import pytest

from fleetc.schema.shape import PoolShape, shape_of
from tests.builders import FleetBuilder, assert_valid, at, only, position

EVEN = "control plane replicas must be odd for etcd quorum (got {})"


@pytest.mark.parametrize("replicas", [2, 4])
def test_class_control_plane_replicas_must_be_odd(replicas: int) -> None:
    fleet = FleetBuilder.minimal().set("ClusterClass", "standard", "spec.controlPlane.replicas", replicas)
    diagnostic = only(fleet.validate(), field="spec.controlPlane.replicas")
    assert diagnostic.message == EVEN.format(replicas)
    assert at(diagnostic) == (
        "fleet/classes.yaml",
        *position(fleet.text("classes.yaml"), f"replicas: {replicas}", value=True),
    )


@pytest.mark.parametrize("replicas", [2, 6])
def test_cluster_control_plane_override_must_be_odd(replicas: int) -> None:
    fleet = FleetBuilder.minimal().set("Cluster", "eu-2", "spec.controlPlane.replicas", replicas)
    diagnostic = only(fleet.validate(), field="spec.controlPlane.replicas")
    assert diagnostic.message == EVEN.format(replicas)
    assert at(diagnostic) == (
        "fleet/clusters.yaml",
        *position(fleet.text("clusters.yaml"), f"replicas: {replicas}", value=True),
    )


@pytest.mark.parametrize("replicas", [1, 3, 5])
def test_odd_control_planes_are_accepted(replicas: int) -> None:
    fleet = FleetBuilder.minimal().set("ClusterClass", "standard", "spec.controlPlane.replicas", replicas)
    assert_valid(fleet.set("Cluster", "eu-1", "spec.controlPlane.replicas", replicas).validate())


@pytest.mark.parametrize(
    ("pods", "services"),
    [
        pytest.param(["10.128.0.0/16"], ["10.128.0.0/12"], id="pods-inside-services"),
        pytest.param(["10.0.0.0/8"], ["10.96.0.0/12"], id="services-inside-pods"),
        pytest.param(["fd00::/48", "10.0.0.0/16"], ["10.0.128.0/20"], id="dual-stack"),
    ],
)
def test_class_pod_and_service_networks_must_not_overlap(pods: list[str], services: list[str]) -> None:
    fleet = FleetBuilder.minimal().set("ClusterClass", "standard", "spec.network", {"pods": pods, "services": services})
    diagnostic = only(fleet.validate(), field="spec.network")
    assert diagnostic.message == f"pod CIDR {pods[-1]} overlaps service CIDR {services[0]}"
    assert at(diagnostic) == ("fleet/classes.yaml", *position(fleet.text("classes.yaml"), "pods:"))


@pytest.mark.parametrize(
    ("pods", "services"),
    [
        pytest.param(["10.0.0.0/16"], ["10.1.0.0/16"], id="adjacent"),
        pytest.param(["10.0.0.0/16"], ["fd00::/108"], id="v4-and-v6"),
        pytest.param(["192.168.0.0/16", "fd00:1::/56"], ["10.96.0.0/12", "fd00:2::/108"], id="dual-stack"),
    ],
)
def test_disjoint_networks_are_accepted(pods: list[str], services: list[str]) -> None:
    fleet = FleetBuilder.minimal().set("ClusterClass", "standard", "spec.network", {"pods": pods, "services": services})
    fleet.set("Provider", "aws-eu", "spec", {"type": "dev-docker"})  # the only provider type that takes IPv6 ranges
    assert_valid(fleet.validate())


@pytest.mark.parametrize(
    ("network", "message"),
    [
        pytest.param(
            {"pods": ["10.130.0.0/16"]}, "pod CIDR 10.130.0.0/16 overlaps service CIDR 10.128.0.0/12", id="pods"
        ),
        pytest.param(
            {"services": ["192.168.4.0/24"]},
            "pod CIDR 192.168.0.0/16 overlaps service CIDR 192.168.4.0/24",
            id="services",
        ),
    ],
)
def test_cluster_network_override_must_not_overlap_the_class_network(network: dict[str, Any], message: str) -> None:
    fleet = FleetBuilder.minimal().set("Cluster", "eu-2", "spec.network", network)
    diagnostic = only(fleet.validate(), field="spec.network")
    assert diagnostic.message == message
    key = next(iter(network))
    assert at(diagnostic) == ("fleet/clusters.yaml", *position(fleet.text("clusters.yaml"), f"{key}:"))


def test_cluster_network_override_that_fits_is_accepted() -> None:
    fleet = FleetBuilder.minimal().set("Cluster", "eu-2", "spec.network", {"pods": ["172.16.0.0/16"]})
    assert_valid(fleet.validate())


AUTOSCALED_POOL = {"size": "large", "autoscaling": {"min": 2, "max": 6}}


def _effective_pool(fleet: FleetBuilder, cluster: str) -> PoolShape:
    result = fleet.validate()
    assert_valid(result)
    assert result.fleet is not None
    document = result.fleet.clusters[cluster].document
    [pool] = shape_of(document, result.fleet.classes[document.spec.class_].document).pools
    return pool


def test_pool_override_of_replicas_replaces_the_class_autoscaling() -> None:
    fleet = FleetBuilder.minimal().set("ClusterClass", "standard", "spec.workers.general", AUTOSCALED_POOL)
    fleet.set("Cluster", "eu-1", "spec.workers", {"general": {"replicas": 9}})
    pool = _effective_pool(fleet, "eu-1")
    assert (pool.replicas, pool.autoscaling) == (9, None)
    untouched = _effective_pool(fleet, "eu-2")
    assert untouched.replicas is None
    assert untouched.autoscaling is not None
    assert (untouched.autoscaling.min, untouched.autoscaling.max) == (2, 6)


def test_pool_override_of_autoscaling_replaces_the_class_replicas() -> None:
    fleet = FleetBuilder.minimal().set(
        "Cluster", "eu-1", "spec.workers", {"general": {"autoscaling": {"min": 1, "max": 4}}}
    )
    pool = _effective_pool(fleet, "eu-1")
    assert pool.replicas is None
    assert pool.autoscaling is not None
    assert (pool.autoscaling.min, pool.autoscaling.max) == (1, 4)


@pytest.mark.parametrize(
    ("override", "field", "fragment"),
    [
        pytest.param(
            {"replicas": 3, "autoscaling": {"min": 1, "max": 4}},
            "spec.workers.general",
            "set either replicas or autoscaling bounds",
            id="replicas-and-bounds",
        ),
        pytest.param(
            {"autoscaling": {"min": 4, "max": 1}},
            "spec.workers.general.autoscaling",
            "min (4) is greater than max (1)",
            id="min-over-max",
        ),
    ],
)
def test_pool_override_sizing_is_checked(override: dict[str, Any], field: str, fragment: str) -> None:
    fleet = FleetBuilder.minimal().set("Cluster", "eu-1", "spec.workers", {"general": override})
    diagnostic = only(fleet.validate(), field=field)
    assert fragment in diagnostic.message
    assert diagnostic.location.path == "fleet/clusters.yaml"
