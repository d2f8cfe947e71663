"""Creating clusters on the simulated management plane: they come up, with CAPI v1.14's status shapes."""

from __future__ import annotations

import time
from typing import Any

import pytest

from fleetc.core.keys import Manifest
from tests.sim.support import (
    CAPI,
    KCP_GROUP,
    Plane,
    condition,
    condition_types,
    crd_schemas,
    example_manifests,
    fixture,
    fixture_objects,
    is_true,
    manifests,
    small_fleet,
)

HEALTHY = "healthy-v1.34.2"


@pytest.fixture(scope="module")
def created() -> Plane:
    """One cluster (3 CP + pool ``general`` × 3) created from scratch and settled."""
    plane = Plane()
    plane.apply(manifests(small_fleet("eu-1")))
    assert plane.run(plane.settled("eu-1"), hours=1)
    plane.run(hours=0.5)
    return plane


def test_a_created_cluster_is_available_with_every_machine_ready(created: Plane) -> None:
    cluster = created.cluster("eu-1")
    assert is_true(cluster, "Available") and condition(cluster, "Available") == {
        **condition(cluster, "Available"),  # type: ignore[dict-item]
        "reason": "Available",
        "message": "",
    }
    assert cluster["status"]["phase"] == "Provisioned"
    assert cluster["status"]["initialization"] == {"controlPlaneInitialized": True, "infrastructureProvisioned": True}
    machines = created.machines("eu-1")
    assert len(machines) == 6
    for machine in machines:
        assert machine["status"]["phase"] == "Running"
        assert [is_true(machine, t) for t in ("Ready", "Available", "UpToDate", "NodeHealthy")] == [True] * 4
        assert machine["status"]["nodeRef"] == {"name": machine["metadata"]["name"]}
        assert machine["status"]["nodeInfo"]["kubeletVersion"] == "v1.34.2"
        assert machine["spec"]["providerID"] == f"in-memory://{machine['metadata']['name']}"
        assert is_true(machine, "HealthCheckSucceeded")


def test_counters_and_versions_are_reported_as_capi_does(created: Plane) -> None:
    cluster, kcp = created.cluster("eu-1"), created.kcp("eu-1")
    counters = {"availableReplicas": 3, "readyReplicas": 3, "replicas": 3, "upToDateReplicas": 3}
    versions = [{"replicas": 3, "version": "v1.34.2"}]
    assert cluster["status"]["controlPlane"] == {**counters, "desiredReplicas": 3, "versions": versions}
    assert cluster["status"]["workers"] == {**counters, "desiredReplicas": 3, "versions": versions}
    assert {k: kcp["status"][k] for k in counters} == counters
    assert kcp["status"]["versions"] == versions and kcp["status"]["version"] == "v1.34.2"
    assert kcp["status"]["observedGeneration"] == kcp["metadata"]["generation"]
    assert kcp["status"]["selector"] == "cluster.x-k8s.io/cluster-name=eu-1,cluster.x-k8s.io/control-plane"


def _pairs(plane: Plane) -> list[tuple[Manifest, Manifest]]:
    """(simulated object, fixture object of the same kind and role) for every kind the fixtures show."""
    kcp_machine = next(m for m in plane.machines("eu-1", control_plane=True))
    worker = next(m for m in plane.machines("eu-1", control_plane=False))
    health_checks = {
        ("control-plane" if "control-plane" in str(c["spec"]["selector"]) else "md"): c
        for c in plane.objects("MachineHealthCheck", cluster="eu-1")
    }
    return [
        (plane.cluster("eu-1"), fixture(HEALTHY, "Cluster")),
        (plane.kcp("eu-1"), fixture(HEALTHY, "KubeadmControlPlane")),
        (kcp_machine, fixture(HEALTHY, "Machine", "7fvxk-")),
        (worker, fixture(HEALTHY, "Machine", "md-0")),
        (plane.one("MachineDeployment", cluster="eu-1"), fixture(HEALTHY, "MachineDeployment")),
        (plane.one("MachineSet", cluster="eu-1"), fixture(HEALTHY, "MachineSet")),
        (health_checks["control-plane"], fixture(HEALTHY, "MachineHealthCheck")),
    ]


def _shape(value: Any) -> Any:
    """The keys of nested mappings (lists: the shape of their first item), without the values."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items() if k != "conditions"}
    if isinstance(value, list) and value:
        return [_shape(value[0])]
    return type(value).__name__


def test_statuses_have_the_shape_of_the_healthy_fixture(created: Plane) -> None:
    for simulated, expected in _pairs(created):
        kind = simulated["kind"]
        assert _shape(simulated["status"]) == _shape(expected["status"]), kind
        types = condition_types(simulated)
        if kind == "Machine" and "HealthCheckSucceeded" not in condition_types(expected):
            types.remove("HealthCheckSucceeded")  # the fixtures' workers have no MachineHealthCheck, ours do
        assert types == condition_types(expected), kind
        for found in simulated["status"]["conditions"]:
            wanted = condition(expected, found["type"])
            if wanted is None:
                continue
            assert (found["status"], found["reason"]) == (wanted["status"], wanted["reason"]), (kind, found)
            assert set(found) == set(wanted), kind


def test_labels_annotations_and_owners_follow_the_fixture(created: Plane) -> None:
    for simulated, expected in _pairs(created):
        kind = simulated["kind"]
        capi_labels = {
            k for k in expected["metadata"].get("labels", {}) if "x-k8s.io" in k or k == "machine-template-hash"
        }
        assert capi_labels <= set(simulated["metadata"].get("labels", {})), kind
        expected_owners = [
            (r["kind"], r.get("controller", False)) for r in expected["metadata"].get("ownerReferences", [])
        ]
        owners = [(r["kind"], r.get("controller", False)) for r in simulated["metadata"].get("ownerReferences", [])]
        assert owners == expected_owners, kind
    machine = next(m for m in created.machines("eu-1", control_plane=True))
    assert machine["spec"]["readinessGates"] == fixture(HEALTHY, "Machine", "7fvxk-")["spec"]["readinessGates"]


def test_generated_names_have_five_character_random_suffixes(created: Plane) -> None:
    alphabet = set("bcdfghjklmnpqrstvwxz2456789")
    kcp = created.kcp("eu-1")["metadata"]["name"]
    deployment = created.one("MachineDeployment", cluster="eu-1")["metadata"]["name"]
    names = [kcp, deployment, *(m["metadata"]["name"] for m in created.machines("eu-1"))]
    for name in names:
        suffix = name.rsplit("-", 1)[1]
        assert len(suffix) == 5 and set(suffix) <= alphabet, name
    assert kcp.startswith("eu-1-") and deployment.startswith("eu-1-general-")


def test_every_object_in_the_store_passes_the_real_crd_schemas(created: Plane) -> None:
    assert created.crd_violations() == []
    assert len([o for o in created.everything() if "/" in o["apiVersion"]]) > 15


def test_the_fixtures_themselves_pass_the_crd_schemas() -> None:
    schemas = crd_schemas()
    for obj in fixture_objects(HEALTHY):
        assert schemas.violations(obj) == []


def test_worker_machines_wait_for_the_control_plane_while_it_initialises() -> None:
    plane = Plane()
    plane.apply(manifests(small_fleet("eu-1")))

    def workers_created() -> bool:
        workers = plane.machines("eu-1", control_plane=False)
        return len(workers) == 3 and all(condition(m, "Ready") is not None for m in workers)

    assert plane.run(workers_created, hours=1)
    assert not is_true(plane.cluster("eu-1"), "ControlPlaneInitialized")
    worker = plane.machines("eu-1", control_plane=False)[0]
    expected = fixture("create-cp-never-initializes", "Machine", "md-0")
    assert condition_types(worker) == condition_types(expected)
    for condition_type in ("BootstrapConfigReady", "InfrastructureReady", "NodeHealthy", "Ready"):
        found, wanted = condition(worker, condition_type), condition(expected, condition_type)
        assert found is not None and wanted is not None
        assert (found["status"], found["reason"], found["message"]) == (
            wanted["status"],
            wanted["reason"],
            wanted["message"],
        ), condition_type
    assert worker["status"]["phase"] == "Pending"
    assert "dataSecretName" not in worker["spec"]["bootstrap"]


def test_the_whole_example_fleet_is_created_in_virtual_time_within_seconds() -> None:
    plane = Plane()
    objects = example_manifests()
    clusters = [o["metadata"]["name"] for o in objects if o["kind"] == "Cluster"]
    assert len(clusters) == 15
    started = time.perf_counter()
    plane.apply(objects)
    assert plane.run(plane.settled(*clusters), hours=2)
    assert time.perf_counter() - started < 5
    assert plane.manager.errors == []
    assert plane.crd_violations() == []
    edge = plane.kcp("store-0101")
    assert edge["spec"]["replicas"] == 1 and edge["status"]["readyReplicas"] == 1
    assert {m["metadata"]["labels"][f"{CAPI}/cluster-name"] for m in plane.objects("Machine")} == set(clusters)
    assert len(plane.objects("KubeadmControlPlane", KCP_GROUP)) == 15
