"""Faults after a Node joined, and Machine deletion in stages: what the simulated CAPI does with them.

A Node that stops reporting or is deleted, a drain a PodDisruptionBudget blocks (with and without CAPI's
``nodeDrainTimeoutSeconds``), a volume that stays attached after the drain (with and without
``nodeVolumeDetachTimeoutSeconds``), a slow infrastructure deletion; fault qualifiers (create vs upgrade, version).
"""

from __future__ import annotations

import pytest

from fleetc.core.keys import Manifest, ObjectKey
from fleetc.sim import Faults
from fleetc.sim.faults import BlockedDrain, FailingPool, NodeFailure, SlowBoot, SlowDeletion, StuckVolumes
from fleetc.sim.machine_delete import PDB_MESSAGE, VOLUME_CLAIM
from fleetc.sim.plane import use_faults
from tests.builders import cluster_doc
from tests.sim.support import Plane, condition, is_true, manifests, small_fleet

NEW = "v1.35.0"


def _fields(obj: Manifest, condition_type: str) -> tuple[str, str, str]:
    found = condition(obj, condition_type)
    assert found is not None, f"{condition_type} not set on {obj['metadata']['name']}"
    return found["status"], found["reason"], found["message"]


def _created(faults: Faults, *, workers: int = 3) -> Plane:
    plane = Plane(faults=faults)
    plane.apply(manifests(small_fleet("eu-1", workers={"general": {"size": "large", "replicas": workers}})))
    return plane


def _upgraded_until_stuck(faults: Faults, stage: str) -> tuple[Plane, Manifest]:
    """eu-1 created with 2 workers under ``faults``, then upgraded until a worker is deleting in ``stage``."""
    plane = _created(faults, workers=2)
    assert plane.run(plane.settled("eu-1"), hours=1)
    plane.apply(manifests(small_fleet("eu-1", version=NEW, workers={"general": {"size": "large", "replicas": 2}})))
    assert plane.run(lambda: any(_deleting_reason(m) == stage for m in _workers(plane)), hours=2)
    return plane, next(m for m in _workers(plane) if _deleting_reason(m) == stage)


def _workers(plane: Plane) -> list[Manifest]:
    return plane.machines("eu-1", control_plane=False)


def test_a_worker_node_that_stops_reporting_is_flagged_after_the_timeout_and_replaced() -> None:
    plane = _created(Faults(node_failures=[NodeFailure(cluster="eu-1", pool="general", after=1800, machines=1)]))
    assert plane.run(plane.settled("eu-1"), hours=1)
    first = {m["metadata"]["name"] for m in _workers(plane)}
    assert plane.run(lambda: any(_status(m, "NodeReady") == "Unknown" for m in _workers(plane)))
    failed = next(m for m in _workers(plane) if _status(m, "NodeReady") == "Unknown")
    broke = plane.elapsed
    assert _fields(failed, "NodeReady") == (
        "Unknown",
        "NodeReadyUnknown",
        "* Node.Ready: Kubelet stopped posting node status.",
    )
    assert _fields(failed, "NodeHealthy")[:2] == ("Unknown", "NodeHealthUnknown")
    assert _status(failed, "HealthCheckSucceeded") == "True"  # not yet: the timeout runs (300 s)
    name = failed["metadata"]["name"]
    assert plane.run(lambda: name not in {m["metadata"]["name"] for m in _workers(plane)}, hours=1)
    assert plane.elapsed >= broke + 300
    assert plane.run(plane.settled("eu-1"), hours=1)  # the MachineSet replaced it with a healthy one
    assert len({m["metadata"]["name"] for m in _workers(plane)} - first) == 1


def test_a_deleted_node_is_remediated_at_once() -> None:
    plane = _created(
        Faults(node_failures=[NodeFailure(cluster="eu-1", pool="general", after=600, state="Deleted", machines=1)])
    )
    assert plane.run(plane.settled("eu-1"), hours=1)
    seen: dict[str, tuple[str, str, str]] = {}

    def flagged() -> bool:
        for machine in _workers(plane):
            check = condition(machine, "HealthCheckSucceeded")
            if check is not None and check["status"] == "False":
                seen[machine["metadata"]["name"]] = _fields(machine, "NodeHealthy")
                seen["check"] = (check["status"], check["reason"], check["message"])
                seen["at"] = (str(plane.elapsed), "", "")
        return "check" in seen

    assert plane.run(flagged, hours=1)
    name = next(k for k in seen if k not in ("check", "at"))
    assert seen[name] == ("False", "NodeDeleted", f"Node {name} has been deleted while the Machine still exists")
    assert seen["check"] == ("False", "NodeDeleted", f"Health check failed:\n  * Node {name} has been deleted")
    assert plane.run(plane.settled("eu-1"), hours=1)
    assert name not in {m["metadata"]["name"] for m in _workers(plane)}


def test_a_count_of_machines_holds_for_a_pool_spread_over_failure_domains_not_for_each_domain() -> None:
    pool = {"size": "large", "replicas": 4, "spreadAcrossFailureDomains": True}
    builder = small_fleet("eu-1", workers={"general": pool})
    builder.files["clusters.yaml"] = [cluster_doc("eu-1", ring="canary", provider="aws-eu")]  # zones a and b
    fault = NodeFailure(cluster="eu-1", pool="general", after=600, state="Deleted", machines=1)
    plane = Plane(faults=Faults(node_failures=[fault]))
    plane.apply(manifests(builder))
    created: set[str] = set()
    plane.store.watch(lambda e: created.add(e.key.name) if e.type == "ADDED" and e.key.kind == "Machine" else None)

    assert plane.run(plane.settled("eu-1"), hours=1)
    assert plane.run(lambda: plane.elapsed > 3 * 3600, hours=4)  # long after any joined Node's 600 s

    workers = {name for name in created if "-general-" in name}
    domains = {m["spec"].get("failureDomain") for m in _workers(plane)}
    assert domains == {"eu-west-1a", "eu-west-1b"} and len(_workers(plane)) == 4
    assert len(workers) == 5  # the 4 first Machines and 1 replacement: one Node deleted in the pool, not one per zone


def test_an_old_control_plane_node_failing_mid_upgrade_is_the_next_one_kcp_replaces() -> None:
    """KCP's scale-down picks an outdated Machine with unhealthy components before the oldest one: the rolling
    update rides through the failure without a remediation."""
    plane = _created(Faults())
    assert plane.run(plane.settled("eu-1"), hours=1)
    # 30 s after the upgrade starts: while the first old control-plane Machine is going
    fault = NodeFailure(cluster="eu-1", pool="control-plane", version="v1.34.2", after=30, machines=1)
    plane.provider.start = plane.clock.now()
    use_faults(plane.manager, plane.provider, Faults(node_failures=[fault]))
    plane.apply(manifests(small_fleet("eu-1", version=NEW)))
    failed: list[str] = []
    deleted: list[str] = []

    def watch() -> bool:
        for machine in plane.machines("eu-1", control_plane=True):
            name = machine["metadata"]["name"]
            if (condition(machine, "NodeReady") or {}).get("reason") == "NodeReadyUnknown" and name not in failed:
                failed.append(name)
            if "deletionTimestamp" in machine["metadata"] and name not in deleted:
                deleted.append(name)
        return plane.healthy("eu-1")

    assert plane.run(watch, hours=4)
    assert len(failed) == 1 and len(deleted) == 3
    assert deleted.index(failed[0]) == 1, (failed, deleted)  # it failed while the first old one was going
    assert "lastRemediation" not in plane.kcp("eu-1")["status"]


def test_a_blocked_drain_holds_the_deletion_for_ever_without_a_drain_timeout() -> None:
    faults = Faults(blocked_drains=[BlockedDrain(cluster="eu-1", pool="general", machines=1)])
    plane, stuck = _upgraded_until_stuck(faults, "DrainingNode")
    started = stuck["status"]["deletion"]["nodeDrainStartTime"]
    status, reason, message = _fields(stuck, "Deleting")
    assert (status, reason) == ("True", "DrainingNode")
    assert message.startswith(f"Drain not completed yet (started at {started}):\n* Pod ") and PDB_MESSAGE in message
    assert stuck["status"]["phase"] == "Deleting" and stuck["metadata"]["finalizers"]
    assert not plane.crd_violations()  # status.deletion and the rest as CAPI's CRDs define them
    plane.run(hours=6)
    assert stuck["metadata"]["name"] in {m["metadata"]["name"] for m in _workers(plane)}  # still there
    assert not plane.healthy("eu-1")


def test_a_blocked_drain_gives_up_after_node_drain_timeout() -> None:
    def with_drain_timeout(version: str) -> list[Manifest]:
        fleet = small_fleet("eu-1", version=version, workers={"general": {"size": "large", "replicas": 2}})
        return manifests(fleet.set("ClusterClass", "standard", "spec.nodeDrainTimeout", "15m"))

    plane = Plane(faults=Faults(blocked_drains=[BlockedDrain(cluster="eu-1", pool="general")]))
    plane.apply(with_drain_timeout("v1.34.2"))
    assert plane.run(plane.settled("eu-1"), hours=1)
    assert all(m["spec"]["deletion"] == {"nodeDrainTimeoutSeconds": 900} for m in plane.machines("eu-1"))
    plane.apply(with_drain_timeout(NEW))
    assert plane.run(lambda: any(_draining(m) for m in _workers(plane)), hours=2)
    began = plane.elapsed
    assert plane.run(plane.settled("eu-1"), hours=3)
    assert plane.elapsed >= began + 900  # the old machines waited out their drain timeout, then went


@pytest.mark.parametrize(
    ("faults", "stage", "spec_field", "field"),
    [
        (Faults(blocked_drains=[BlockedDrain(cluster="eu-1", pool="general", machines=1)]), "DrainingNode",
         "nodeDrainTimeout", "nodeDrainTimeoutSeconds"),
        (Faults(stuck_volumes=[StuckVolumes(cluster="eu-1", pool="general", machines=1)]), "WaitingForVolumeDetach",
         "nodeVolumeDetachTimeout", "nodeVolumeDetachTimeoutSeconds"),
    ],
)  # fmt: skip
def test_a_timeout_set_while_a_machine_is_stuck_deleting_lets_it_go_and_replaces_no_other_machine(
    faults: Faults, stage: str, spec_field: str, field: str
) -> None:
    """CAPI sets a deletion timeout on live Machines in place, deleting ones included: a drain or a volume wait
    stuck for an hour ends once the Cluster's class revision has the timeout, and nothing else is replaced."""
    workers = {"general": {"size": "large", "replicas": 2}}
    plane, machine = _upgraded_until_stuck(faults, stage)
    stuck = machine["metadata"]["name"]
    plane.run(hours=1)
    sets = {s["metadata"]["name"] for s in plane.objects("MachineSet", cluster="eu-1")}
    control_plane = {m["metadata"]["name"] for m in plane.machines("eu-1", control_plane=True)}
    assert stuck in {m["metadata"]["name"] for m in _workers(plane)}  # stuck for an hour: no timeout yet

    fleet = small_fleet("eu-1", version=NEW, workers=workers)
    fleet.set("ClusterClass", "standard", f"spec.{spec_field}", "10m")
    plane.apply(manifests(fleet))  # a new class revision: only the timeout differs
    assert plane.run(lambda: stuck not in {m["metadata"]["name"] for m in _workers(plane)}, hours=1)
    assert plane.run(plane.settled("eu-1"), hours=1)

    assert {s["metadata"]["name"] for s in plane.objects("MachineSet", cluster="eu-1")} <= sets  # no new rollout
    assert {m["metadata"]["name"] for m in plane.machines("eu-1", control_plane=True)} == control_plane
    assert all(m["spec"]["deletion"] == {field: 600} for m in plane.machines("eu-1"))


def test_a_cluster_s_own_drain_timeout_lets_a_stuck_machine_go_without_a_new_class_revision() -> None:
    """A timeout set on one cluster's pool goes to its Cluster's topology (CAPI merges it over the class's): the
    machine stuck draining goes, nothing else is replaced, and the class revision stays as it was."""
    workers = {"general": {"size": "large", "replicas": 2}}
    faults = Faults(blocked_drains=[BlockedDrain(cluster="eu-1", pool="general", machines=1)])
    plane, machine = _upgraded_until_stuck(faults, "DrainingNode")
    stuck = machine["metadata"]["name"]
    plane.run(hours=1)
    sets = {s["metadata"]["name"] for s in plane.objects("MachineSet", cluster="eu-1")}
    control_plane = {m["metadata"]["name"] for m in plane.machines("eu-1", control_plane=True)}
    classes = {c["metadata"]["name"] for c in plane.objects("ClusterClass")}
    assert stuck in {m["metadata"]["name"] for m in _workers(plane)}

    fleet = small_fleet("eu-1", version=NEW, workers=workers)
    fleet.set("Cluster", "eu-1", "spec.workers", {"general": {"nodeDrainTimeout": "10m"}})
    plane.apply(manifests(fleet))
    assert plane.run(lambda: stuck not in {m["metadata"]["name"] for m in _workers(plane)}, hours=1)
    assert plane.run(plane.settled("eu-1"), hours=1)

    assert {c["metadata"]["name"] for c in plane.objects("ClusterClass")} == classes
    assert {s["metadata"]["name"] for s in plane.objects("MachineSet", cluster="eu-1")} <= sets  # no new rollout
    assert {m["metadata"]["name"] for m in plane.machines("eu-1", control_plane=True)} == control_plane
    assert all(m["spec"]["deletion"] == {"nodeDrainTimeoutSeconds": 600} for m in _workers(plane))
    assert all("deletion" not in m["spec"] for m in plane.machines("eu-1", control_plane=True))


def test_a_volume_that_stays_attached_holds_the_deletion_after_the_drain_for_ever_without_a_timeout() -> None:
    faults = Faults(stuck_volumes=[StuckVolumes(cluster="eu-1", pool="general", machines=1)])
    plane, stuck = _upgraded_until_stuck(faults, "WaitingForVolumeDetach")
    deletion = stuck["status"]["deletion"]
    assert deletion["nodeDrainStartTime"] <= deletion["waitForNodeVolumeDetachStartTime"]  # after its drain
    started = deletion["waitForNodeVolumeDetachStartTime"]
    assert _fields(stuck, "Deleting") == (
        "True",
        "WaitingForVolumeDetach",
        f"Waiting for Node volumes to be detached (started at {started})\n* PersistentVolumeClaims: {VOLUME_CLAIM}",
    )
    assert not plane.crd_violations()
    plane.run(hours=6)
    assert stuck["metadata"]["name"] in {m["metadata"]["name"] for m in _workers(plane)}  # still there
    assert not plane.healthy("eu-1")


def test_capi_does_not_wait_for_the_volumes_of_an_unreachable_node_or_when_told_not_to() -> None:
    """``shouldWaitForNodeVolumes`` skips a Node that is unreachable (its kubelet stopped reporting: nothing can
    detach there); ``exclude-wait-for-node-volume-detach`` skips the wait on any Machine."""
    stuck = StuckVolumes(cluster="eu-1", pool="general")
    node_failure = NodeFailure(cluster="eu-1", pool="general", after=1800, machines=1)
    plane = _created(Faults(stuck_volumes=[stuck], node_failures=[node_failure]))
    assert plane.run(lambda: any(_status(m, "NodeReady") == "Unknown" for m in _workers(plane)))
    name = next(m for m in _workers(plane) if _status(m, "NodeReady") == "Unknown")["metadata"]["name"]
    waited: list[str] = []

    def gone() -> bool:
        waited.extend(m["metadata"]["name"] for m in _workers(plane) if _detaching(m))
        return name not in {m["metadata"]["name"] for m in _workers(plane)}

    assert plane.run(gone, hours=1)  # remediated: deleted without waiting for its volumes
    assert plane.run(plane.settled("eu-1"), hours=1) and not waited

    plane = _created(Faults(stuck_volumes=[stuck]), workers=1)
    assert plane.run(plane.settled("eu-1"), hours=1)
    (worker,) = _workers(plane)
    plane.store.patch(
        ObjectKey.of(worker),
        {"metadata": {"annotations": {"machine.cluster.x-k8s.io/exclude-wait-for-node-volume-detach": ""}}},
    )
    plane.apply(manifests(small_fleet("eu-1", version=NEW, workers={"general": {"size": "large", "replicas": 1}})))
    name = worker["metadata"]["name"]
    assert plane.run(lambda: name not in {m["metadata"]["name"] for m in _workers(plane)}, hours=1)
    assert plane.run(plane.settled("eu-1"), hours=1)


def test_a_slow_deletion_keeps_the_machine_until_its_infrastructure_is_gone() -> None:
    plane = _created(Faults(slow_deletions=[SlowDeletion(cluster="eu-1", pool="general", duration=1200)]), workers=1)
    assert plane.run(plane.settled("eu-1"), hours=1)
    plane.apply(manifests(small_fleet("eu-1", version=NEW, workers={"general": {"size": "large", "replicas": 1}})))
    waiting = lambda: [m for m in _workers(plane) if _deleting_reason(m) == "WaitingForInfrastructureDeletion"]  # noqa: E731
    assert plane.run(lambda: bool(waiting()), hours=2)
    machine, began = waiting()[0], plane.elapsed
    assert (
        _fields(machine, "Deleting")[2] == f"Waiting for {machine['spec']['infrastructureRef']['kind']} to be deleted"
    )
    name = machine["metadata"]["name"]
    assert plane.run(lambda: name not in {m["metadata"]["name"] for m in _workers(plane)}, hours=1)
    assert 1200 <= plane.elapsed - began <= 1201


def test_qualified_faults_hit_only_the_upgrade() -> None:
    pool_fault = FailingPool(cluster="eu-1", pool="general", on_upgrade=True)
    slow = SlowBoot(cluster="eu-1", pool="control-plane", duration=500, version=NEW)  # within the MHC's 600 s
    plane = _created(Faults(failing_pools=[pool_fault], slow_boots=[slow]))
    assert plane.run(plane.settled("eu-1"), hours=1)  # creation: neither fault applies
    created_in = plane.elapsed
    assert created_in < 500
    started = plane.clock.now()
    plane.apply(manifests(small_fleet("eu-1", version=NEW)))
    assert plane.run(
        lambda: any(
            m["spec"]["version"] == NEW and is_true(m, "Ready") for m in plane.machines("eu-1", control_plane=True)
        )
    )
    assert plane.clock.now() - started >= 500  # the new control-plane machine booted slowly
    assert plane.run(lambda: any(m["spec"]["version"] == NEW for m in _workers(plane)), hours=4)
    plane.run(hours=0.5)
    new_workers = [m for m in _workers(plane) if m["spec"]["version"] == NEW]
    assert new_workers and not any("nodeRef" in m.get("status", {}) for m in new_workers)  # the upgrade's pool fails


def _status(machine: Manifest, condition_type: str) -> str:
    found = condition(machine, condition_type)
    return found["status"] if found is not None else ""


def _draining(machine: Manifest) -> bool:
    return _deleting_reason(machine) == "DrainingNode"


def _detaching(machine: Manifest) -> bool:
    return _deleting_reason(machine) == "WaitingForVolumeDetach"


def _deleting_reason(machine: Manifest) -> str:
    found = condition(machine, "Deleting")
    return found["reason"] if found is not None and found["status"] == "True" else ""
