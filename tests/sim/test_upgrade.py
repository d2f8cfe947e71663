"""Kubernetes upgrades and ClusterClass rebases on the simulated plane, as CAPI's topology and KCP sequence them."""

from __future__ import annotations

from dataclasses import dataclass, field

from fleetc.core.keys import Manifest
from fleetc.runtime.store import Event
from tests.sim.support import (
    CAPI,
    Plane,
    condition,
    fixture,
    is_true,
    manifests,
    small_fleet,
)

TWO_POOLS = {"general": {"size": "large", "replicas": 3}, "extra": {"size": "large", "replicas": 2}}
CP_LABEL = f"{CAPI}/control-plane"


@dataclass
class Timeline:
    """Machine creations and deletions, and the worst control-plane state seen after every reconcile."""

    plane: Plane
    created: list[tuple[float, str, str, str]] = field(default_factory=list)
    deleted: list[tuple[float, str, str]] = field(default_factory=list)
    fewest_healthy_members: int = 99
    most_cp_machines: int = 0
    most_cp_provisioning: int = 0

    def __post_init__(self) -> None:
        self.plane.store.watch(self._on_event)

    def _on_event(self, event: Event) -> None:
        if event.key.kind != "Machine":
            return
        role = "cp" if CP_LABEL in event.object["metadata"]["labels"] else _pool(event.object)
        if event.type == "ADDED":
            self.created.append((self.plane.elapsed, role, event.key.name, event.object["spec"]["version"]))
        elif event.type == "DELETED":
            self.deleted.append((self.plane.elapsed, role, event.key.name))

    def observe(self, cluster: str) -> None:
        """Record the control plane's state now."""
        machines = self.plane.machines(cluster, control_plane=True)
        members = [m for m in machines if "nodeRef" in m.get("status", {}) and "deletionTimestamp" not in m["metadata"]]
        healthy = [m for m in members if is_true(m, "EtcdMemberHealthy")]
        self.fewest_healthy_members = min(self.fewest_healthy_members, len(healthy))
        self.most_cp_machines = max(self.most_cp_machines, len(machines))
        provisioning = [m for m in machines if "nodeRef" not in m.get("status", {})]
        self.most_cp_provisioning = max(self.most_cp_provisioning, len(provisioning))

    def run(self, cluster: str, until_healthy: bool = True, hours: float = 6.0) -> None:
        """Step the manager, observing after each reconcile, until the cluster is healthy again."""
        deadline = self.plane.clock.now() + hours * 3600
        while not (until_healthy and self.plane.healthy(cluster)):
            due = self.plane.manager.queue.next_due()
            assert due is not None and due <= deadline, "the rollout stopped before the cluster was healthy"
            self.plane.manager.step()
            self.observe(cluster)


def _pool(machine: Manifest) -> str:
    labels: dict[str, str] = machine["metadata"]["labels"]
    return labels.get("topology.cluster.x-k8s.io/deployment-name", "?")


def settled_plane(version: str = "v1.34.2", **fleet: object) -> Plane:
    plane = Plane()
    plane.apply(manifests(small_fleet("eu-1", version=version, **fleet)))  # type: ignore[arg-type]
    assert plane.run(plane.settled("eu-1"), hours=2)
    return plane


def test_a_version_upgrade_replaces_control_plane_machines_one_at_a_time_keeping_etcd_quorum() -> None:
    plane = settled_plane(workers=TWO_POOLS)
    timeline = Timeline(plane)
    old_cp = {m["metadata"]["name"] for m in plane.machines("eu-1", control_plane=True)}
    plane.apply(manifests(small_fleet("eu-1", version="v1.35.0", workers=TWO_POOLS)))
    timeline.run("eu-1")
    assert timeline.most_cp_machines == 4  # 3 replicas + maxSurge 1
    assert timeline.most_cp_provisioning == 1
    assert timeline.fewest_healthy_members >= 2  # quorum of 3
    cp_created = [t for t in timeline.created if t[1] == "cp"]
    assert [v for *_, v in cp_created] == ["v1.35.0"] * 3
    assert {name for _, role, name in timeline.deleted if role == "cp"} == old_cp
    assert all(m["spec"]["version"] == "v1.35.0" for m in plane.machines("eu-1"))


def test_the_control_plane_upgrades_before_the_workers_and_deployments_go_in_list_order() -> None:
    plane = settled_plane(workers=TWO_POOLS)
    timeline = Timeline(plane)
    plane.apply(manifests(small_fleet("eu-1", version="v1.35.0", workers=TWO_POOLS)))
    timeline.run("eu-1")
    last_cp_deleted = max(t for t, role, _ in timeline.deleted if role == "cp")
    first_worker = min(t for t, role, *_ in timeline.created if role != "cp")
    assert first_worker >= last_cp_deleted
    general_done = max(t for t, role, _ in timeline.deleted if role == "general")
    extra_started = min(t for t, role, *_ in timeline.created if role == "extra")
    assert extra_started >= general_done
    assert [role for _, role, *_ in timeline.created] == ["cp"] * 3 + ["general"] * 3 + ["extra"] * 2


def test_upgrade_concurrency_lets_deployments_upgrade_together() -> None:
    objects = manifests(small_fleet("eu-1", workers=TWO_POOLS))
    plane = Plane()
    plane.apply(objects)
    assert plane.run(plane.settled("eu-1"), hours=2)
    timeline = Timeline(plane)
    upgraded = manifests(small_fleet("eu-1", version="v1.35.0", workers=TWO_POOLS))
    for obj in upgraded:
        if obj["kind"] == "Cluster":
            obj["metadata"]["annotations"]["topology.cluster.x-k8s.io/upgrade-concurrency"] = "2"
    plane.apply(upgraded)
    timeline.run("eu-1")
    general_done = max(t for t, role, _ in timeline.deleted if role == "general")
    extra_started = min(t for t, role, *_ in timeline.created if role == "extra")
    assert extra_started < general_done


def test_upgrade_statuses_look_like_the_cp_upgrading_fixture() -> None:
    plane = settled_plane()
    plane.apply(manifests(small_fleet("eu-1", version="v1.35.0")))

    def mid_rollout() -> bool:
        kcp = plane.kcp("eu-1")
        versions = kcp.get("status", {}).get("versions", [])
        return len(versions) == 2 and versions[1]["replicas"] >= 2

    assert plane.run(mid_rollout, hours=1)
    cluster, kcp = plane.cluster("eu-1"), plane.kcp("eu-1")
    expected_cluster = fixture("cp-upgrading", "Cluster")
    reconciled = condition(cluster, "TopologyReconciled")
    assert reconciled is not None and (reconciled["status"], reconciled["reason"]) == ("False", "ClusterUpgrading")
    deployment = plane.one("MachineDeployment", cluster="eu-1")["metadata"]["name"]
    assert reconciled["message"] == (
        "Cluster is upgrading to v1.35.0\n"
        "  * KubeadmControlPlane upgrading to version v1.35.0\n"
        f"  * MachineDeployment {deployment} pending upgrade to version v1.35.0"
    )
    assert is_true(cluster, "Available")
    assert cluster["metadata"]["annotations"]["topology.internal.cluster.x-k8s.io/upgrade-step"] == "v1.35.0"
    assert cluster["status"]["workers"]["upgradePlan"] == expected_cluster["status"]["workers"]["upgradePlan"]
    assert "upgradePlan" not in cluster["status"]["controlPlane"]
    rolling = condition(kcp, "RollingOut")
    assert rolling is not None and rolling["reason"] == "RollingOut"
    assert rolling["message"].endswith("not up-to-date replicas\n* Version v1.34.2, v1.35.0 required")
    outdated = next(m for m in plane.machines("eu-1", control_plane=True) if m["spec"]["version"] == "v1.34.2")
    up_to_date = condition(outdated, "UpToDate")
    assert up_to_date is not None
    assert (up_to_date["status"], up_to_date["reason"], up_to_date["message"]) == (
        "False",
        "NotUpToDate",
        "* Version v1.34.2, v1.35.0 required",
    )
    assert plane.run(plane.settled("eu-1"), hours=2)
    cluster = plane.cluster("eu-1")
    assert "upgrade-step" not in str(cluster["metadata"].get("annotations", {}))
    assert "upgradePlan" not in cluster["status"]["controlPlane"] and "upgradePlan" not in cluster["status"]["workers"]
    assert is_true(cluster, "TopologyReconciled")


def test_a_class_revision_that_changes_only_a_pool_template_rolls_only_that_pool() -> None:
    plane = settled_plane(workers=TWO_POOLS)
    before = {m["metadata"]["name"] for m in plane.machines("eu-1")}
    class_before = plane.cluster("eu-1")["spec"]["topology"]["classRef"]["name"]
    workers = {**TWO_POOLS, "extra": {**TWO_POOLS["extra"], "nodeLabels": {"team": "ml"}}}
    plane.apply(manifests(small_fleet("eu-1", workers=workers)))
    assert plane.cluster("eu-1")["spec"]["topology"]["classRef"]["name"] != class_before
    assert plane.run(plane.settled("eu-1"), hours=2)
    plane.run(hours=0.2)
    after = {m["metadata"]["name"]: _pool(m) for m in plane.machines("eu-1")}
    kept = {name for name in after if name in before}
    assert {after[name] for name in kept} == {"?", "general"}  # control plane and pool general untouched
    assert all(after[name] == "extra" for name in set(after) - kept) and len(set(after) - kept) == 2


def test_a_class_revision_that_changes_kubeadm_settings_rolls_the_control_plane() -> None:
    plane = settled_plane()
    workers_before = {m["metadata"]["name"] for m in plane.machines("eu-1", control_plane=False)}
    cp_before = {m["metadata"]["name"] for m in plane.machines("eu-1", control_plane=True)}
    builder = small_fleet("eu-1")
    builder.set("ClusterClass", "standard", "spec.kubeadm", {"apiServer": {"extraArgs": {"audit-log-maxage": "7"}}})
    plane.apply(manifests(builder))

    def rolling() -> bool:
        found = condition(plane.kcp("eu-1"), "RollingOut")
        return found is not None and found["status"] == "True"

    assert plane.run(rolling, hours=1)
    found = condition(plane.kcp("eu-1"), "RollingOut")
    assert found is not None and "* KubeadmConfig is not up-to-date" in found["message"]
    assert plane.run(plane.settled("eu-1"), hours=2)
    assert {m["metadata"]["name"] for m in plane.machines("eu-1", control_plane=False)} == workers_before
    assert not cp_before & {m["metadata"]["name"] for m in plane.machines("eu-1", control_plane=True)}


def test_scaling_a_pool_adds_machines_without_a_rollout() -> None:
    plane = settled_plane()
    before = {m["metadata"]["name"] for m in plane.machines("eu-1")}
    plane.apply(manifests(small_fleet("eu-1", workers={"general": {"size": "large", "replicas": 5}})))
    assert plane.run(plane.settled("eu-1"), hours=1)
    after = {m["metadata"]["name"] for m in plane.machines("eu-1")}
    assert before < after and len(after) == 8
