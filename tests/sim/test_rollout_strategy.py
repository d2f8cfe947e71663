"""Rollout strategies: KCP maxSurge 0, MachineDeployment maxSurge/maxUnavailable, MachineHealthCheck limits."""

from __future__ import annotations

from fleetc.contract.timestamps import timestamp
from fleetc.core.keys import Manifest
from fleetc.sim import Faults
from fleetc.sim.fault_flags import control_plane_flag
from fleetc.sim.mhc import SimulatedMachineHealthCheckReconciler
from tests.sim.support import Plane, condition, is_true, manifests, small_fleet
from tests.sim.test_upgrade import Timeline


def _with_kcp_max_surge_zero(objects: list[Manifest]) -> list[Manifest]:
    for obj in objects:
        if obj["kind"] == "KubeadmControlPlaneTemplate":
            obj["spec"]["template"]["spec"]["rollout"] = {
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0}}
            }
    return objects


def test_kcp_with_max_surge_zero_removes_a_machine_before_adding_its_replacement() -> None:
    plane = Plane()
    plane.apply(_with_kcp_max_surge_zero(manifests(small_fleet("eu-1"))))
    assert plane.run(plane.settled("eu-1"), hours=1)
    timeline = Timeline(plane)
    plane.apply(_with_kcp_max_surge_zero(manifests(small_fleet("eu-1", version="v1.35.0"))))
    timeline.run("eu-1")
    assert timeline.most_cp_machines == 3
    assert timeline.fewest_healthy_members == 2  # one member down at a time, quorum of 3 kept
    first_created = min(t for t, role, *_ in timeline.created if role == "cp")
    first_deleted = min(t for t, role, _ in timeline.deleted if role == "cp")
    assert first_deleted <= first_created


def _with_pool_strategy(objects: list[Manifest], surge: int, unavailable: int) -> list[Manifest]:
    for obj in objects:
        if obj["kind"] == "Cluster":
            for deployment in obj["spec"]["topology"]["workers"]["machineDeployments"]:
                rolling = {"maxSurge": surge, "maxUnavailable": unavailable}
                deployment["rollout"] = {"strategy": {"type": "RollingUpdate", "rollingUpdate": rolling}}
    return objects


def test_a_machine_deployment_honours_max_surge_and_max_unavailable() -> None:
    plane = Plane()
    plane.apply(_with_pool_strategy(manifests(small_fleet("eu-1")), 0, 1))
    assert plane.run(plane.settled("eu-1"), hours=1)
    most, fewest_available = 0, 99
    plane.apply(_with_pool_strategy(manifests(small_fleet("eu-1", version="v1.35.0")), 0, 1))
    while not plane.healthy("eu-1"):
        assert plane.manager.step()
        workers = plane.machines("eu-1", control_plane=False)
        # maxSurge bounds replicas: a Machine still being deleted (3-6 s, as in CAPI) no longer counts
        most = max(most, sum("deletionTimestamp" not in m["metadata"] for m in workers))
        fewest_available = min(fewest_available, sum(is_true(m, "Available") for m in workers))
    assert most == 3 and fewest_available == 2
    deployment = plane.one("MachineDeployment", cluster="eu-1")
    assert deployment["spec"]["rollout"]["strategy"]["rollingUpdate"] == {"maxSurge": 0, "maxUnavailable": 1}


def test_too_many_unhealthy_machines_block_remediation() -> None:
    faults = Faults(control_plane_never_ready=[control_plane_flag("eu-1@create")])
    plane = Plane(faults=faults)
    health = {"nodeStartupTimeout": "10m", "unhealthyNodeTimeout": "5m", "maxUnhealthy": "40%"}
    plane.apply(manifests(small_fleet("eu-1", health_check=health)))
    assert plane.run(lambda: plane.elapsed > 1200, hours=1)
    checks = [c for c in plane.objects("MachineHealthCheck", cluster="eu-1") if "control-plane" in str(c["spec"])]
    found = condition(checks[0], "RemediationAllowed")
    assert found is not None and (found["status"], found["reason"]) == ("False", "TooManyUnhealthy")
    assert found["message"] == (
        "Remediation is not allowed, the number of not started or unhealthy machines exceeds maxUnhealthy "
        "(total: 1, unhealthy: 1, maxUnhealthy: 40%)"
    )
    machine = plane.machines("eu-1", control_plane=True)[0]
    failed = condition(machine, "HealthCheckSucceeded")
    assert failed is not None and failed["reason"] == "NodeStartupTimeout"
    assert condition(machine, "OwnerRemediated") is None
    assert "lastRemediation" not in plane.kcp("eu-1")["status"]


def test_a_node_that_stays_not_ready_fails_the_health_check_after_its_timeout() -> None:
    plane = Plane()
    plane.apply(manifests(small_fleet("eu-1")))
    assert plane.run(plane.settled("eu-1"), hours=1)
    check = next(c for c in plane.objects("MachineHealthCheck", cluster="eu-1") if "control-plane" in str(c["spec"]))
    machine = plane.machines("eu-1", control_plane=True)[0]
    since = plane.clock.now() - 301
    not_ready = {
        "type": "NodeReady",
        "status": "Unknown",
        "reason": "NodeConditionsFailed",
        "message": "",
        "lastTransitionTime": timestamp(since),
        "observedGeneration": 3,
    }
    conditions = [not_ready if c["type"] == "NodeReady" else c for c in machine["status"]["conditions"]]
    sick = {**machine, "status": {**machine["status"], "conditions": conditions}}
    checker = SimulatedMachineHealthCheckReconciler(plane.plane.context)
    verdict = checker._judge(check, plane.cluster("eu-1"), sick)
    assert verdict.unhealthy == (
        "UnhealthyNode",
        "  * Condition Ready on Node is reporting status Unknown for more than 5m0s",
    )
    early = {**not_ready, "lastTransitionTime": timestamp(since + 100)}
    fine = {
        **machine,
        "status": {**machine["status"], "conditions": [early if c["type"] == "NodeReady" else c for c in conditions]},
    }
    verdict = checker._judge(check, plane.cluster("eu-1"), fine)
    assert verdict.unhealthy is None and verdict.recheck == since + 100 + 300
