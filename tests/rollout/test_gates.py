"""The gate reaches the verdict each CAPI v1.14 status fixture states, and small constructed cases around them."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from fleetc.contract.timestamps import parse_timestamp
from fleetc.contract.vocabulary import CONTROL_PLANE_LABEL
from fleetc.rollout.gate_objects import Evidence, Finding, telling
from fleetc.rollout.gates import ClusterObjects, Health, Target, evaluate, text
from tests.rollout.support import FIXTURES, NEW, OLD, find, fixture, fixture_objects

HEALTHY, PROGRESSING, FAILED = Health.HEALTHY, Health.PROGRESSING, Health.FAILED
UPGRADE_START = parse_timestamp("2026-08-11T10:00:00Z")
CREATE_START = parse_timestamp("2026-08-11T09:40:00Z")

# fixture README §3: scenario → (target, cluster verdict, control plane verdict, failing object, failing condition)
EXPECTED: dict[str, tuple[str, Health, Health, str | None, str | None]] = {
    "healthy-v1.34.2": (OLD, HEALTHY, HEALTHY, None, None),
    "cp-upgrading": (NEW, PROGRESSING, PROGRESSING, None, None),
    "cp-upgraded-workers-upgrading": (NEW, PROGRESSING, HEALTHY, None, None),
    "upgrade-complete-v1.35.0": (NEW, HEALTHY, HEALTHY, None, None),
    "cp-new-machine-never-gets-node": (
        NEW,
        FAILED,
        FAILED,
        "Machine eu-prod-1-7fvxk-zr6gm",
        "HealthCheckSucceeded=False (NodeStartupTimeout)",
    ),
    "create-cp-never-initializes": (
        NEW,
        FAILED,
        FAILED,
        "KubeadmControlPlane eu-prod-4-2gsjd",
        "status.lastRemediation",
    ),
    "cp-remediation-exhausted": (
        NEW,
        FAILED,
        FAILED,
        "Machine eu-prod-1-7fvxk-n9jct",
        "HealthCheckSucceeded=False (NodeStartupTimeout)",
    ),
}


# captured from real CAPI v1.14.0 (fixture README §3.8): scenario → (target, class, verdict, control plane, why)
REAL: dict[str, tuple[str, str, Health, Health, str, str]] = {
    "real-create-cp-never-boots": (
        OLD,
        "standard-slow-6fa140",
        PROGRESSING,
        PROGRESSING,
        "Cluster h-canary",
        "ControlPlaneInitialized=False (NotInitialized)",
    ),
}


def test_every_fixture_folder_has_an_expected_verdict() -> None:
    assert sorted(p.name for p in FIXTURES.iterdir() if p.is_dir()) == sorted([*EXPECTED, *REAL])


@pytest.mark.parametrize("scenario", sorted(REAL))
def test_real_capi_status_is_explained_by_its_condition_not_by_a_status_not_yet_observed(scenario: str) -> None:
    """On real CAPI v1.14 a KubeadmControlPlane whose first machine is still booting has reported no
    ``status.observedGeneration`` yet; the reason names the Cluster's condition that says why instead."""
    version, class_ref, health, control_plane, subject, condition = REAL[scenario]
    objects = fixture_objects(scenario)
    assert objects.control_plane is not None and "observedGeneration" not in objects.control_plane["status"]
    verdict = evaluate(objects, Target(version, class_ref, parse_timestamp("2026-12-06T06:26:00Z")))
    assert (verdict.health, verdict.control_plane) == (health, control_plane), verdict.reason
    assert verdict.finding is not None and verdict.finding.evidence is Evidence.CONDITION, verdict.reason
    assert (verdict.finding.subject, verdict.finding.condition) == (subject, condition), verdict.reason


@pytest.mark.parametrize("since", [None, "start"])
@pytest.mark.parametrize("scenario", sorted(EXPECTED))
def test_fixture_verdict(scenario: str, since: str | None) -> None:
    version, health, control_plane, subject, condition = EXPECTED[scenario]
    start = CREATE_START if scenario.startswith("create") else UPGRADE_START
    verdict = evaluate(fixture_objects(scenario), Target(version, "fleet-standard", start if since else None))
    assert (verdict.health, verdict.control_plane) == (health, control_plane), verdict.reason
    cluster = "eu-prod-4" if scenario.startswith("create") else "eu-prod-1"
    assert verdict.reason.startswith(f"cluster {cluster}: ")
    if subject is not None:
        assert verdict.finding is not None
        assert (verdict.finding.subject, verdict.finding.condition) == (subject, condition)
        assert verdict.reason.startswith(f"cluster {cluster}: {subject}: {condition}: ")


def test_failure_reasons_carry_the_capi_detail() -> None:
    never = evaluate(fixture_objects("cp-new-machine-never-gets-node"), Target(NEW))
    assert never.reason == (
        "cluster eu-prod-1: Machine eu-prod-1-7fvxk-zr6gm: HealthCheckSucceeded=False (NodeStartupTimeout): "
        "Health check failed: Node failed to report startup in 10m0s"
    )
    exhausted = evaluate(fixture_objects("cp-remediation-exhausted"), Target(NEW))
    assert "OwnerRemediated=False (CannotBeRemediated): KubeadmControlPlane can't remediate" in exhausted.reason
    create = evaluate(fixture_objects("create-cp-never-initializes"), Target(NEW))
    assert (
        "KubeadmControlPlane eu-prod-4-2gsjd: status.lastRemediation: Machine eu-prod-4-2gsjd-wx7lq failed its health "
        "check (HealthCheckSucceeded=False) and was remediated at 2026-08-11T09:50:05Z (retry 0)"
    ) in create.reason
    assert "Cluster ControlPlaneInitialized=False (NotInitialized): Control plane not yet initialized" in create.reason


def test_progressing_verdicts_name_what_they_wait_for() -> None:
    upgrading = evaluate(fixture_objects("cp-upgrading"), Target(NEW))
    assert upgrading.reason == (
        "cluster eu-prod-1: Machine eu-prod-1-7fvxk-q2wjf: NodeHealthy=Unknown (InspectionFailed): "
        "Waiting for DevMachine to report spec.providerID"
    )
    workers = evaluate(fixture_objects("cp-upgraded-workers-upgrading"), Target(NEW))
    assert workers.finding is not None and workers.finding.subject == "Machine eu-prod-1-md-0-bvx5q-hm9rz-gk2cs"


def test_a_remediation_before_the_rollout_started_is_history_not_a_failure() -> None:
    """create-cp-never-initializes is failed by time: without a fresh remediation it is only progressing."""
    after = parse_timestamp("2026-08-11T09:55:00Z")
    verdict = evaluate(fixture_objects("create-cp-never-initializes"), Target(NEW, since=after))
    assert (verdict.health, verdict.control_plane) == (PROGRESSING, PROGRESSING)
    assert verdict.finding is not None
    assert (verdict.finding.subject, verdict.finding.condition) == (
        "Cluster eu-prod-4",
        "ControlPlaneInitialized=False (NotInitialized)",
    )


def test_a_failed_health_check_raised_before_the_attempt_started_is_history() -> None:
    """After a fix and a resume, the machine CAPI is about to replace still shows its old failed check."""
    after = parse_timestamp("2026-08-11T11:00:00Z")  # the check failed at 10:50:53, the last remediation at 10:40:41
    verdict = evaluate(fixture_objects("cp-remediation-exhausted"), Target(NEW, since=after))
    assert (verdict.health, verdict.control_plane) == (PROGRESSING, PROGRESSING)
    assert verdict.finding is not None and verdict.finding.subject == "Machine eu-prod-1-7fvxk-n9jct"


def edited(scenario: str, change: Any) -> ClusterObjects:
    objects = fixture(scenario)
    change(objects)
    return ClusterObjects.of(objects)


def test_stale_observed_generation_on_the_control_plane_is_progressing() -> None:
    def bump(objects: list[dict[str, Any]]) -> None:
        find(objects, "KubeadmControlPlane")["metadata"]["generation"] = 3

    verdict = evaluate(edited("upgrade-complete-v1.35.0", bump), Target(NEW))
    assert (verdict.health, verdict.control_plane) == (PROGRESSING, PROGRESSING)
    assert verdict.finding is not None
    assert verdict.finding.subject == "KubeadmControlPlane eu-prod-1-7fvxk"
    assert verdict.finding.condition == "status.observedGeneration"


def test_a_stale_status_gives_way_to_a_reported_condition_and_is_named_only_without_one() -> None:
    stale = Finding("KubeadmControlPlane k", "status.observedGeneration", "None, generation is 1", Evidence.STALE)
    missing = Finding("Machine m", "NodeHealthy", "not reported yet")
    condition = Finding("Cluster c", "ControlPlaneInitialized=False (NotInitialized)", "", Evidence.CONDITION)
    field = Finding("KubeadmControlPlane k", "spec.version", "v1.34.2, want v1.35.0")
    assert telling(iter([stale, missing, condition])) is condition
    assert telling(iter([stale, missing])) is stale
    assert telling(iter([field, condition])) is field  # a spec not yet propagated is not a stale status
    assert telling(iter([])) is None


def test_a_cluster_spec_not_yet_observed_is_progressing() -> None:
    """Right after fleetc writes the Cluster, its status is still about the previous generation."""

    def bump(objects: list[dict[str, Any]]) -> None:
        find(objects, "Cluster")["metadata"]["generation"] = 5

    verdict = evaluate(edited("upgrade-complete-v1.35.0", bump), Target(NEW))
    assert verdict.health is PROGRESSING
    assert verdict.finding is not None and verdict.finding.condition == "status.observedGeneration"


def test_partial_control_plane_upgrade_is_progressing() -> None:
    def partial(objects: list[dict[str, Any]]) -> None:
        kcp = find(objects, "KubeadmControlPlane")
        kcp["status"]["versions"] = [{"version": OLD, "replicas": 1}, {"version": NEW, "replicas": 2}]
        kcp["status"]["upToDateReplicas"] = 2

    verdict = evaluate(edited("upgrade-complete-v1.35.0", partial), Target(NEW))
    assert (verdict.health, verdict.control_plane) == (PROGRESSING, PROGRESSING)
    assert verdict.finding is not None
    assert verdict.finding.condition == "status.versions"
    assert verdict.finding.message == "[v1.34.2: 1, v1.35.0: 2], want [v1.35.0: 3]"


def test_worker_skew_leaves_the_control_plane_healthy_and_the_cluster_progressing() -> None:
    def skew(objects: list[dict[str, Any]]) -> None:
        deployment = find(objects, "MachineDeployment")
        deployment["spec"]["template"]["spec"]["version"] = OLD
        deployment["status"]["versions"] = [{"version": OLD, "replicas": 3}]

    verdict = evaluate(edited("upgrade-complete-v1.35.0", skew), Target(NEW))
    assert (verdict.health, verdict.control_plane) == (PROGRESSING, HEALTHY)
    assert verdict.finding is not None
    assert verdict.finding.subject == "MachineDeployment eu-prod-1-md-0-bvx5q"
    assert verdict.finding.condition == "spec.template.spec.version"


def test_a_pool_scaled_to_zero_is_done_without_versions_as_capi_reports_it() -> None:
    """A MachineDeployment with no Machines (a pool scaled to zero, e.g. an autoscaled GPU pool at its minimum)
    reports no ``status.versions``: CAPI v1.14 aggregates them from its MachineSets' Machines and an empty list comes
    out as nil (``internal/util/version/version.go`` ``AggregateStatusVersions``). Before, the gate wanted
    ``[v1.35.0: 0]`` and the cluster stayed progressing until its progress deadline failed it."""

    def scaled_to_zero(objects: list[dict[str, Any]]) -> None:
        deployment = find(objects, "MachineDeployment")
        for obj in (deployment, *(o for o in objects if o["kind"] == "MachineSet")):
            obj.setdefault("spec", {})["replicas"] = 0
            obj["status"].pop("versions", None)
            for counter in ("replicas", "readyReplicas", "availableReplicas", "upToDateReplicas"):
                obj["status"][counter] = 0
        workers = [o for o in objects if o["kind"] == "Machine" and CONTROL_PLANE_LABEL not in o["metadata"]["labels"]]
        for machine in workers:
            objects.remove(machine)

    objects = edited("upgrade-complete-v1.35.0", scaled_to_zero)
    assert not objects.worker_machines()
    verdict = evaluate(objects, Target(NEW))
    assert (verdict.health, verdict.control_plane) == (HEALTHY, HEALTHY), verdict.reason


def test_a_target_not_yet_applied_is_progressing() -> None:
    verdict = evaluate(fixture_objects("healthy-v1.34.2"), Target(NEW))
    assert verdict.health is PROGRESSING
    assert verdict.finding is not None and verdict.finding.condition == "spec.topology.version"
    moved = evaluate(fixture_objects("upgrade-complete-v1.35.0"), Target(NEW, class_ref="fleet-standard-2"))
    assert moved.finding is not None and moved.finding.condition == "spec.topology.classRef"


def test_topology_reconcile_failed_is_a_failure_and_class_not_reconciled_a_wait() -> None:
    def topology(reason: str) -> Any:
        def change(objects: list[dict[str, Any]]) -> None:
            condition = next(
                c for c in find(objects, "Cluster")["status"]["conditions"] if c["type"] == "TopologyReconciled"
            )
            condition.update(status="False", reason=reason, message="error computing the desired state")

        return change

    failed = evaluate(edited("upgrade-complete-v1.35.0", topology("ReconcileFailed")), Target(NEW))
    assert failed.health is FAILED
    assert failed.reason.startswith("cluster eu-prod-1: Cluster eu-prod-1: TopologyReconciled=False (ReconcileFailed)")
    waiting = evaluate(edited("upgrade-complete-v1.35.0", topology("ClusterClassNotReconciled")), Target(NEW))
    assert waiting.health is PROGRESSING


def _health_check_failed(machine: dict[str, Any]) -> None:
    machine["status"]["conditions"].append(
        {"type": "HealthCheckSucceeded", "status": "False", "reason": "UnhealthyNode", "message": "Node NotReady"}
    )


def test_an_unhealthy_new_worker_fails_the_cluster_but_not_its_control_plane() -> None:
    def unhealthy(objects: list[dict[str, Any]]) -> None:
        _health_check_failed(find(objects, "Machine", "eu-prod-1-md-0-bvx5q-hm9rz-5tnwb"))

    verdict = evaluate(edited("upgrade-complete-v1.35.0", unhealthy), Target(NEW))
    assert (verdict.health, verdict.control_plane) == (FAILED, HEALTHY)
    assert "Machine eu-prod-1-md-0-bvx5q-hm9rz-5tnwb: HealthCheckSucceeded=False (UnhealthyNode)" in verdict.reason


def test_an_unhealthy_machine_at_the_old_version_is_not_this_rollouts_failure() -> None:
    """KCP replaces outdated machines anyway (unhealthy ones first)."""

    def unhealthy(objects: list[dict[str, Any]]) -> None:
        _health_check_failed(find(objects, "Machine", "eu-prod-1-7fvxk-hx5c2"))

    assert evaluate(edited("cp-upgrading", unhealthy), Target(NEW)).health is PROGRESSING


def test_deprecated_fields_are_ignored_and_external_etcd_is_allowed() -> None:
    def change(objects: list[dict[str, Any]]) -> None:
        for obj in objects:
            obj["status"]["deprecated"] = {"v1beta1": {"conditions": [{"type": "Ready", "status": "False"}]}}
        kcp = find(objects, "KubeadmControlPlane")
        kcp["status"]["conditions"] = [c for c in kcp["status"]["conditions"] if c["type"] != "EtcdClusterHealthy"]

    assert evaluate(edited("upgrade-complete-v1.35.0", change), Target(NEW)).health is HEALTHY


def test_a_missing_cluster_is_progressing() -> None:
    verdict = evaluate(ClusterObjects(cluster=None), Target(NEW))
    assert (verdict.health, verdict.control_plane) == (PROGRESSING, PROGRESSING)


def test_condition_messages_are_flattened() -> None:
    assert text("Health check failed:\n  * Node failed to report startup in 10m0s") == (
        "Health check failed: Node failed to report startup in 10m0s"
    )
    assert text("Rolling out 2 replicas\n* Version v1 required\n* DevMachine is not up-to-date") == (
        "Rolling out 2 replicas; Version v1 required; DevMachine is not up-to-date"
    )


def _flagged_for_remediation(machine: dict[str, Any], name: str | None = None) -> dict[str, Any]:
    """A MachineHealthCheck flagged the Machine and its owner is about to replace it (as CAPI writes it)."""
    if name is not None:
        machine["metadata"]["name"] = name
    flagged_at = {"lastTransitionTime": "2026-08-11T10:30:00Z"}
    machine["status"]["conditions"] += [
        {"type": "HealthCheckSucceeded", "status": "False", "reason": "UnhealthyNode", "message": "Node NotReady"},
        {"type": "OwnerRemediated", "status": "False", "reason": "WaitingForRemediation", "message": "Waiting"},
    ]
    for condition in machine["status"]["conditions"][-2:]:
        condition.update(flagged_at)
    return machine


WORKER = "eu-prod-1-md-0-bvx5q-hm9rz-5tnwb"


def test_a_new_worker_capi_is_replacing_is_routine_churn_not_a_failure() -> None:
    def remediating(objects: list[dict[str, Any]]) -> None:
        _flagged_for_remediation(find(objects, "Machine", WORKER))

    verdict = evaluate(edited("upgrade-complete-v1.35.0", remediating), Target(NEW))
    assert (verdict.health, verdict.control_plane) == (PROGRESSING, HEALTHY)


def test_worker_remediations_over_the_cluster_budget_fail_it_even_once_the_machines_are_gone() -> None:
    """CAPI deletes a flagged worker at once: the remediations a reader remembers count."""
    objects = fixture("upgrade-complete-v1.35.0")
    worker = find(objects, "Machine", WORKER)
    gone = [_flagged_for_remediation(copy.deepcopy(worker), f"{WORKER}-{n}") for n in range(2)]
    cluster = ClusterObjects.of(objects, remediated=gone)
    failed = evaluate(cluster, Target(NEW, worker_remediations=1))
    assert (failed.health, failed.control_plane) == (FAILED, HEALTHY)
    assert failed.reason == (
        f"cluster eu-prod-1: Machine {WORKER}-1: HealthCheckSucceeded=False (UnhealthyNode): Node NotReady; "
        "2 worker Machines remediated in this attempt, over the cluster's budget of 1"
    )
    assert evaluate(cluster, Target(NEW, worker_remediations=2)).health is HEALTHY
    assert evaluate(ClusterObjects.of(objects, remediated=gone[:1]), Target(NEW)).health is HEALTHY  # default: 1


def test_remediations_of_workers_from_before_the_attempt_do_not_count() -> None:
    objects = fixture("upgrade-complete-v1.35.0")
    gone = [
        _flagged_for_remediation(copy.deepcopy(find(objects, "Machine", WORKER)), f"{WORKER}-{n}") for n in range(3)
    ]
    after = parse_timestamp("2026-08-11T23:00:00Z")
    names = frozenset(m["metadata"]["name"] for m in gone)
    verdict = evaluate(ClusterObjects.of(objects, remediated=gone), Target(NEW, since=after, preexisting=names))
    assert verdict.health is HEALTHY


def test_a_kcp_remediation_of_a_machine_that_predates_the_attempt_is_history_once_the_machine_is_gone() -> None:
    """Resume after a fix: KCP remediates the halted attempt's machine after the retry started, then deletes it."""
    retry = parse_timestamp("2026-08-11T09:45:00Z")  # the remediation of eu-prod-4-2gsjd-wx7lq came at 09:50:05
    objects = fixture_objects("create-cp-never-initializes")
    assert evaluate(objects, Target(NEW, since=retry)).health is FAILED
    earlier = frozenset({"eu-prod-4-2gsjd-wx7lq"})
    assert evaluate(objects, Target(NEW, since=retry, preexisting=earlier)).health is PROGRESSING
