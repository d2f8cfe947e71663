"""The CEL health expressions for CAPI v1beta2 Clusters, evaluated by a real CEL implementation.

Against the seven CAPI v1.14.0 status fixtures (read from ``shared/``, with the verdicts their README gives) and
against Cluster statuses built here: healthy, upgrading, failed, and the edges between them.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from fleetc.render.flux import CLUSTER_HEALTH

from .support import FixtureVerdict, evaluate, fixture_cluster, fixture_verdicts, flux_status, outcome, outcomes

# --- the status fixtures ------------------------------------------------------------------------------------------

VERDICTS = fixture_verdicts()


def expected_outcome(verdict: FixtureVerdict) -> str:
    """The expression a fixture's whole-cluster verdict must make true.

    A time-based failure (a first control plane that never initialises) shows no failure signal on the Cluster:
    the expressions keep it in progress and the wave Kustomization's ``timeout`` (the wave's controlPlaneDeadline)
    turns it into a failed health check.
    """
    if verdict.cluster_verdict == "failed" and verdict.time_based:
        return "inProgress"
    return {"ok": "current", "progressing": "inProgress", "failed": "failed"}[verdict.cluster_verdict]


def test_the_readme_gives_a_verdict_for_all_seven_fixtures() -> None:
    scenarios = {v.scenario for v in VERDICTS}
    assert scenarios == {
        "healthy-v1.34.2",
        "cp-upgrading",
        "cp-upgraded-workers-upgrading",
        "upgrade-complete-v1.35.0",
        "cp-new-machine-never-gets-node",
        "create-cp-never-initializes",
        "cp-remediation-exhausted",
    }
    assert [v.scenario for v in VERDICTS if v.time_based] == ["create-cp-never-initializes"]


@pytest.mark.parametrize("verdict", VERDICTS, ids=lambda v: v.scenario)
def test_fixture_reaches_its_verdict(verdict: FixtureVerdict) -> None:
    cluster = fixture_cluster(verdict.scenario)
    assert outcome(cluster) == expected_outcome(verdict)


@pytest.mark.parametrize("verdict", VERDICTS, ids=lambda v: v.scenario)
def test_flux_reaches_the_same_status_as_the_expressions(verdict: FixtureVerdict) -> None:
    expected = {"current": "Current", "failed": "Failed", "inProgress": "InProgress"}[expected_outcome(verdict)]
    assert flux_status(fixture_cluster(verdict.scenario)) == expected


def test_workers_still_upgrading_is_not_done_although_the_control_plane_is() -> None:
    # README §3.3: CP verdict OK, Cluster verdict progressing; no upgradePlan and no upgrade-step annotation.
    cluster = fixture_cluster("cp-upgraded-workers-upgrading")
    assert "upgradePlan" not in cluster["status"]["workers"]
    assert outcome(cluster) == "inProgress"


def test_remediation_exhausted_fails_although_the_cluster_stays_available() -> None:
    # README §4.1: Available and ControlPlaneAvailable stay True while a new machine is stuck.
    cluster = fixture_cluster("cp-remediation-exhausted")
    available = [c for c in cluster["status"]["conditions"] if c["type"] == "Available"]
    assert available[0]["status"] == "True"
    assert outcome(cluster) == "failed"


def test_the_never_initialising_control_plane_is_only_caught_by_time() -> None:
    # README §3.6 traps: phase Provisioned, TopologyReconciled True, nothing says "failed" on the Cluster.
    cluster = fixture_cluster("create-cp-never-initializes")
    assert cluster["status"]["phase"] == "Provisioned"
    assert not evaluate(CLUSTER_HEALTH.failed, cluster)
    assert not evaluate(CLUSTER_HEALTH.current, cluster)


# --- constructed Cluster statuses ---------------------------------------------------------------------------------

CP = "eu-1-7fvxk"
"""The cluster's KubeadmControlPlane (``spec.controlPlaneRef``); its machines are named ``<CP>-<suffix>``."""

HEALTHY_CONDITIONS: dict[str, tuple[str, str]] = {
    "Available": ("True", "Available"),
    "RemoteConnectionProbe": ("True", "ProbeSucceeded"),
    "InfrastructureReady": ("True", "Ready"),
    "ControlPlaneInitialized": ("True", "Initialized"),
    "ControlPlaneAvailable": ("True", "Available"),
    "WorkersAvailable": ("True", "Available"),
    "TopologyReconciled": ("True", "ReconcileSucceeded"),
    "RollingOut": ("False", "NotRollingOut"),
    "Remediating": ("False", "NotRemediating"),
    "ScalingUp": ("False", "NotScalingUp"),
    "ScalingDown": ("False", "NotScalingDown"),
    "Paused": ("False", "NotPaused"),
    "Deleting": ("False", "NotDeleting"),
}


def replicas_status(versions: dict[str, int]) -> dict[str, Any]:
    """A ``status.controlPlane``/``status.workers`` block with machines per version."""
    total = sum(versions.values())
    return {
        "desiredReplicas": total,
        "replicas": total,
        "readyReplicas": total,
        "availableReplicas": total,
        "upToDateReplicas": total,
        "versions": [{"version": v, "replicas": n} for v, n in sorted(versions.items())],
    }


def capi_cluster(
    *,
    version: str = "v1.35.0",
    generation: int = 4,
    control_plane: dict[str, int] | None = None,
    workers: dict[str, int] | None = None,
    conditions: dict[str, tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """A healthy topology Cluster at ``version``; arguments change one aspect of it."""
    merged = {**HEALTHY_CONDITIONS, **(conditions or {})}
    return {
        "apiVersion": "cluster.x-k8s.io/v1beta2",
        "kind": "Cluster",
        "metadata": {"name": "eu-1", "namespace": "fleet", "generation": generation},
        "spec": {
            "controlPlaneRef": {"apiGroup": "controlplane.cluster.x-k8s.io", "kind": "KubeadmControlPlane", "name": CP},
            "topology": {
                "classRef": {"name": "standard-local-abc123"},
                "version": version,
                "controlPlane": {"replicas": 3},
                "workers": {"machineDeployments": [{"class": "general", "name": "general", "replicas": 3}]},
            },
        },
        "status": {
            "observedGeneration": generation,
            "phase": "Provisioned",
            "initialization": {"infrastructureProvisioned": True, "controlPlaneInitialized": True},
            "conditions": [
                {
                    "type": kind,
                    "status": status,
                    "reason": reason,
                    "message": "",
                    "observedGeneration": generation,
                    "lastTransitionTime": "2026-08-11T10:00:00Z",
                }
                for kind, (status, reason) in merged.items()
            ],
            "controlPlane": replicas_status(control_plane or {version: 3}),
            "workers": replicas_status(workers or {version: 3}),
        },
    }


def set_condition(cluster: dict[str, Any], kind: str, **fields: Any) -> dict[str, Any]:
    """A copy of ``cluster`` with fields of one condition changed (a None value removes the field)."""
    changed = copy.deepcopy(cluster)
    for condition in changed["status"]["conditions"]:
        if condition["type"] == kind:
            for name, value in fields.items():
                if value is None:
                    condition.pop(name, None)
                else:
                    condition[name] = value
    return changed


UPGRADING = {"RollingOut": ("True", "RollingOut"), "TopologyReconciled": ("False", "ClusterUpgrading")}


def test_a_healthy_cluster_is_current() -> None:
    assert outcome(capi_cluster()) == "current"


def test_an_upgrading_cluster_is_in_progress() -> None:
    cluster = capi_cluster(control_plane={"v1.34.2": 2, "v1.35.0": 2}, workers={"v1.34.2": 3}, conditions=UPGRADING)
    cluster["status"]["workers"]["upgradePlan"] = [{"version": "v1.35.0"}]
    assert outcome(cluster) == "inProgress"


def remediating(cluster: dict[str, Any], message: str | None) -> dict[str, Any]:
    """``cluster`` with ``Remediating=True`` and that message (None: no message at all)."""
    return set_condition(cluster, "Remediating", status="True", reason="Remediating", message=message)


CP_MACHINE = f"* Machine {CP}-zr6gm: Machine is deleting"
WORKER_MACHINE = "* Machine eu-1-general-bvx5q-sg6pl-7kd2x: Machine is deleting"


def test_a_cluster_whose_control_plane_machine_cannot_be_remediated_has_failed() -> None:
    cluster = capi_cluster(control_plane={"v1.34.2": 3, "v1.35.0": 1}, workers={"v1.34.2": 3}, conditions=UPGRADING)
    assert outcome(remediating(cluster, CP_MACHINE)) == "failed"


def test_a_control_plane_machine_among_several_remediated_ones_fails_the_cluster() -> None:
    message = f"* Machines eu-1-general-bvx5q-sg6pl-7kd2x, {CP}-zr6gm: Machine is deleting"
    assert outcome(remediating(capi_cluster(), message)) == "failed"


def test_a_routine_worker_remediation_does_not_fail_the_cluster() -> None:
    upgrading = capi_cluster(workers={"v1.34.2": 1, "v1.35.0": 2}, conditions=UPGRADING)
    assert outcome(remediating(upgrading, WORKER_MACHINE)) == "inProgress"
    assert outcome(remediating(capi_cluster(), WORKER_MACHINE)) == "current"


def test_a_remediation_that_cannot_be_placed_counts_as_failed() -> None:
    without_ref = capi_cluster()
    del without_ref["spec"]["controlPlaneRef"]
    assert outcome(remediating(without_ref, WORKER_MACHINE)) == "failed"
    assert outcome(remediating(capi_cluster(), None)) == "failed"


def test_a_failed_topology_reconcile_has_failed() -> None:
    cluster = capi_cluster(conditions={"TopologyReconciled": ("False", "ReconcileFailed")})
    assert outcome(cluster) == "failed"


def test_control_plane_remediation_fails_even_a_cluster_that_otherwise_looks_healthy() -> None:
    cluster = remediating(capi_cluster(), CP_MACHINE)
    assert outcomes(cluster) == {"current": False, "failed": True, "inProgress": False}


@pytest.mark.parametrize(
    "reason", ["ClusterUpgrading", "ClusterClassNotReconciled", "ClusterCreating", "MachineDeploymentsUpgradeDeferred"]
)
def test_topology_reasons_that_are_waits_are_in_progress(reason: str) -> None:
    assert outcome(capi_cluster(conditions={"TopologyReconciled": ("False", reason)})) == "inProgress"


def test_a_version_bump_not_yet_rolled_out_is_in_progress() -> None:
    # The Cluster controller saw the new generation before KCP started: all conditions fresh and green, but the
    # machines still run the old version.
    cluster = capi_cluster(version="v1.35.0", control_plane={"v1.34.2": 3}, workers={"v1.34.2": 3})
    assert outcome(cluster) == "inProgress"


def test_workers_behind_the_control_plane_are_in_progress() -> None:
    assert outcome(capi_cluster(workers={"v1.34.2": 1, "v1.35.0": 2})) == "inProgress"


@pytest.mark.parametrize("side", ["controlPlane", "workers"])
def test_a_pending_upgrade_step_is_in_progress(side: str) -> None:
    cluster = capi_cluster()
    cluster["status"][side]["upgradePlan"] = [{"version": "v1.36.0"}]
    assert outcome(cluster) == "inProgress"


def test_an_empty_upgrade_plan_is_no_plan() -> None:
    cluster = capi_cluster()
    cluster["status"]["workers"]["upgradePlan"] = []
    assert outcome(cluster) == "current"


def test_a_spec_change_not_yet_observed_is_in_progress() -> None:
    cluster = capi_cluster()
    cluster["metadata"]["generation"] = 5
    assert outcome(cluster) == "inProgress"
    assert flux_status(cluster) == "InProgress"


@pytest.mark.parametrize("kind", ["Available", "RollingOut", "TopologyReconciled"])
def test_a_condition_written_for_an_older_generation_does_not_count(kind: str) -> None:
    # A class rebase (new classRef, same version): the topology controller has not reconciled generation 4 yet.
    assert outcome(set_condition(capi_cluster(), kind, observedGeneration=3)) == "inProgress"


def test_conditions_without_observed_generation_are_accepted() -> None:
    cluster = capi_cluster()
    for condition in cluster["status"]["conditions"]:
        del condition["observedGeneration"]
    assert outcome(cluster) == "current"


def test_a_cluster_without_workers_is_current() -> None:
    cluster = capi_cluster()
    del cluster["spec"]["topology"]["workers"]
    del cluster["status"]["workers"]
    assert outcome(cluster) == "current"


def test_a_control_plane_without_versions_is_not_current() -> None:
    cluster = capi_cluster()
    cluster["status"]["controlPlane"]["versions"] = []
    assert outcome(cluster) == "inProgress"
    del cluster["status"]["controlPlane"]
    assert outcome(cluster) == "inProgress"


@pytest.mark.parametrize("kind", ["Available", "RollingOut", "TopologyReconciled"])
def test_a_missing_condition_is_in_progress(kind: str) -> None:
    cluster = capi_cluster()
    cluster["status"]["conditions"] = [c for c in cluster["status"]["conditions"] if c["type"] != kind]
    assert outcome(cluster) == "inProgress"


@pytest.mark.parametrize(
    "status",
    [
        {},
        {"observedGeneration": 4},
        {"observedGeneration": 4, "conditions": []},
        {"observedGeneration": 4, "phase": "Pending", "conditions": [{"type": "Available", "status": "Unknown"}]},
    ],
    ids=["empty", "generation-only", "no-conditions", "condition-without-reason"],
)
def test_a_status_still_being_filled_in_is_in_progress(status: dict[str, Any]) -> None:
    cluster = capi_cluster()
    cluster["status"] = status
    assert outcome(cluster) == "inProgress"


def test_a_cluster_without_topology_is_never_current() -> None:
    cluster = capi_cluster()
    del cluster["spec"]["topology"]
    assert outcome(cluster) == "inProgress"


def test_a_cluster_without_any_status_cannot_be_evaluated() -> None:
    # Flux reports such a Cluster's status as unknown and keeps polling until the timeout, as for "in progress".
    cluster = capi_cluster()
    del cluster["status"]
    for expression in (CLUSTER_HEALTH.current, CLUSTER_HEALTH.failed, CLUSTER_HEALTH.in_progress):
        with pytest.raises(RuntimeError, match="status"):
            evaluate(expression, cluster)
