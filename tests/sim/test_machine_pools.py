"""MachinePools on the simulated plane: the topology creates them once the control plane is up, the simulated
provider group scales and upgrades them one instance at a time, status is what CAPI v1.14 reports for a pool
without MachinePool Machines, and the rollout gates wait for a pool as they wait for a MachineDeployment."""

from __future__ import annotations

from typing import Any

from fleetc.rollout.gate_objects import ClusterObjects, Target
from fleetc.rollout.gates import Health, evaluate
from fleetc.sim.machinepool import STEP, next_instances
from tests.builders import API, FleetBuilder
from tests.sim.support import CAPI, KCP_GROUP, Plane, manifests

DOCKER = {"apiVersion": API, "kind": "Provider", "metadata": {"name": "docker"}, "spec": {"type": "dev-docker"}}
BOOTSTRAP = "bootstrap.cluster.x-k8s.io"
INFRA = "infrastructure.cluster.x-k8s.io"


def _fleet(version: str) -> FleetBuilder:
    builder = FleetBuilder.minimal().add("providers.yaml", DOCKER)
    builder.set("ClusterClass", "standard", "spec.controlPlane.replicas", 1)
    builder.set("ClusterClass", "standard", "spec.workers", {"burst": {"kind": "pool", "size": "large", "replicas": 3}})
    cluster = {"apiVersion": API, "kind": "Cluster", "metadata": {"name": "pool-1", "labels": {"ring": "canary"}},
               "spec": {"class": "standard", "provider": "docker", "version": version}}  # fmt: skip
    builder.files["clusters.yaml"] = [cluster]
    return builder


def _pool(plane: Plane) -> dict[str, Any]:
    return plane.one("MachinePool", CAPI, "pool-1")


def _versions(plane: Plane) -> list[dict[str, Any]]:
    pools = plane.objects("MachinePool", CAPI, "pool-1")
    found: list[dict[str, Any]] = pools[0].get("status", {}).get("versions", []) if pools else []
    return found


def _gate(plane: Plane, version: str) -> Any:
    kinds = [("Cluster", CAPI), ("KubeadmControlPlane", KCP_GROUP), ("Machine", CAPI), ("MachinePool", CAPI)]
    found = [o for kind, group in kinds for o in plane.objects(kind, group)]
    return evaluate(ClusterObjects.of(found), Target(version))


def test_the_topology_creates_a_machine_pool_with_its_bootstrap_and_infrastructure_objects() -> None:
    plane = Plane()
    plane.apply(manifests(_fleet("v1.34.2")))

    assert plane.run(lambda: _versions(plane) == [{"replicas": 3, "version": "v1.34.2"}], hours=2)

    pool = _pool(plane)
    assert pool["metadata"]["labels"]["topology.cluster.x-k8s.io/pool-name"] == "burst"
    assert pool["spec"]["replicas"] == 3
    template = pool["spec"]["template"]["spec"]
    assert template["version"] == "v1.34.2"
    assert template["bootstrap"]["configRef"]["kind"] == "KubeadmConfig"
    assert template["infrastructureRef"]["kind"] == "DevMachinePool"
    assert plane.one("DevMachinePool", INFRA, "pool-1")["spec"] == {"backend": {"docker": {}}}
    assert [c["type"] for c in pool["status"]["conditions"]] == ["Paused"]  # v1.14 sets no other v1beta2 one
    assert pool["status"]["phase"] == "Running"
    assert plane.crd_violations() == []


def test_the_pool_is_created_only_after_the_control_plane_is_up() -> None:
    plane = Plane(record=True)
    plane.apply(manifests(_fleet("v1.34.2")))
    plane.run(lambda: bool(plane.objects("MachinePool", CAPI, "pool-1")), hours=2)

    kcp = plane.kcp("pool-1")
    assert kcp["status"]["versions"] == [{"replicas": 1, "version": "v1.34.2"}]


def test_an_upgrade_replaces_the_pools_instances_one_per_step_after_the_control_plane() -> None:
    plane = Plane()
    plane.apply(manifests(_fleet("v1.34.2")))
    plane.run(lambda: _versions(plane) == [{"replicas": 3, "version": "v1.34.2"}], hours=2)

    plane.apply(manifests(_fleet("v1.35.0")))
    assert plane.run(lambda: _pool(plane)["spec"]["template"]["spec"]["version"] == "v1.35.0", hours=2)
    assert plane.kcp("pool-1")["status"]["versions"] == [{"replicas": 1, "version": "v1.35.0"}]
    assert _gate(plane, "v1.35.0").health is Health.PROGRESSING
    assert _gate(plane, "v1.35.0").finding.subject.startswith("MachinePool")

    started = plane.elapsed
    assert plane.run(lambda: _versions(plane) == [{"replicas": 3, "version": "v1.35.0"}], hours=2)
    assert plane.elapsed - started >= 3 * STEP - 1
    assert plane.run(lambda: _gate(plane, "v1.35.0").health is Health.HEALTHY, hours=1)


def test_the_group_adds_then_removes_then_replaces_old_instances_first() -> None:
    assert next_instances({}, 2, "v2") == {"v2": 1}
    assert next_instances({"v1": 2, "v2": 1}, 2, "v2") == {"v1": 1, "v2": 1}
    assert next_instances({"v1": 2}, 2, "v2") == {"v1": 1, "v2": 1}
    assert next_instances({"v2": 2}, 2, "v2") == {"v2": 2}
