"""A simulated Cluster's v1beta2 status: conditions, ``status.controlPlane``/``status.workers``, phase.

Follows ``core/reconcilers/cluster/cluster_controller_status.go`` (phase L97-118; ``InfrastructureReady``,
``ControlPlaneInitialized`` L551-640 which never goes back to False, ``ControlPlaneAvailable`` mirroring the
control plane's ``Available``, ``WorkersAvailable``, machine aggregates where new Machines count for
``*MachinesUpToDate`` only after 10 s, ``RemoteConnectionProbe`` L311-340, and ``Available`` L1139-1165 where
``TopologyReconciled`` counts only with the reasons ``ReconcileFailed``/``ClusterClassNotReconciled``) and
``core/reconcilers/topology/cluster/status.go`` (``TopologyReconciled`` L212-337 with the structured
"Cluster is upgrading to …" message; ``upgradePlan`` L44-72, set only while an upgrade is under way).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from fleetc.contract.objects import name_of
from fleetc.contract.upgrades import upgrade_path
from fleetc.contract.versions import version_order
from fleetc.contract.vocabulary import TOPOLOGY_DEPLOYMENT_LABEL
from fleetc.core.keys import Manifest
from fleetc.sim.api import moment
from fleetc.sim.machines import is_control_plane, summary_of
from fleetc.sim.status import (
    FALSE,
    TRUE,
    UNKNOWN,
    Cond,
    aggregate,
    build,
    bullet,
    conditions_of,
    find,
    mirror,
    summary,
)
from fleetc.sim.topology_plan import VersionPlan

NEW_MACHINE_GRACE = 10.0
ERROR_REASONS = ("ReconcileFailed", "ClusterClassNotReconciled")


class ClusterView(NamedTuple):
    """What the Cluster's status is computed from."""

    cluster: Manifest
    kcp: Manifest | None
    deployments: Sequence[Manifest]
    machines: Sequence[Manifest]
    plan: VersionPlan | None
    problem: str | None
    """A topology error (``TopologyReconciled=False/ReconcileFailed``)."""
    infrastructure_provisioned: bool
    infrastructure_error: str | None
    catalogue: list[str] | None
    now: float


def cluster_status(view: ClusterView) -> dict[str, Any]:
    """The whole ``status`` of the Cluster."""
    cluster = view.cluster
    generation = cluster["metadata"]["generation"]
    initialized = _initialized(view)
    status: dict[str, Any] = {
        "conditions": build(conditions_of(cluster), _conditions(view, initialized), generation, view.now),
        "observedGeneration": generation,
        "phase": _phase(view),
    }
    initialization = {
        "controlPlaneInitialized": initialized,
        "infrastructureProvisioned": view.infrastructure_provisioned,
    }
    initialization = {k: v for k, v in initialization.items() if v}
    if initialization:
        status["initialization"] = initialization
    if view.kcp is not None:
        status["controlPlane"] = _control_plane(view)
    if view.deployments:
        status["workers"] = _workers(view)
    return status


def _initialized(view: ClusterView) -> bool:
    was = view.cluster.get("status", {}).get("initialization", {}).get("controlPlaneInitialized", False)
    kcp_status = (view.kcp or {}).get("status", {})
    return bool(was or kcp_status.get("initialization", {}).get("controlPlaneInitialized"))


def _phase(view: ClusterView) -> str:
    if "deletionTimestamp" in view.cluster["metadata"]:
        return "Deleting"
    if view.infrastructure_provisioned and "controlPlaneEndpoint" in view.cluster["spec"]:
        return "Provisioned"
    return "Provisioning" if "infrastructureRef" in view.cluster["spec"] else "Pending"


def _control_plane(view: ClusterView) -> dict[str, Any]:
    kcp = view.kcp or {}
    status = kcp.get("status", {})
    result: dict[str, Any] = {
        "availableReplicas": status.get("availableReplicas", 0),
        "desiredReplicas": kcp["spec"].get("replicas", 1),
        "readyReplicas": status.get("readyReplicas", 0),
        "replicas": status.get("replicas", 0),
        "upToDateReplicas": status.get("upToDateReplicas", 0),
    }
    target = view.cluster["spec"]["topology"]["version"]
    if kcp["spec"]["version"] != target:
        path = upgrade_path(kcp["spec"]["version"], target, view.catalogue)
        if path.control_plane_steps:
            result["upgradePlan"] = [{"version": v} for v in path.control_plane_steps]
    if status.get("versions"):
        result["versions"] = status["versions"]
    return result


def _workers(view: ClusterView) -> dict[str, Any]:
    totals = dict.fromkeys(("availableReplicas", "readyReplicas", "replicas", "upToDateReplicas"), 0)
    desired = 0
    counts: dict[str, int] = {}
    for deployment in view.deployments:
        status = deployment.get("status", {})
        desired += deployment["spec"].get("replicas", 0)
        for field in totals:
            totals[field] += status.get(field, 0)
        for entry in status.get("versions", []):
            counts[entry["version"]] = counts.get(entry["version"], 0) + entry["replicas"]
    result: dict[str, Any] = {**totals, "desiredReplicas": desired}
    target = view.cluster["spec"]["topology"]["version"]
    versions = [d["spec"]["template"]["spec"]["version"] for d in view.deployments]
    behind = [v for v in versions if v != target]
    if behind:
        path = upgrade_path(min(behind, key=version_order), target, view.catalogue)
        if path.worker_steps:
            result["upgradePlan"] = [{"version": v} for v in path.worker_steps]
    if counts:
        result["versions"] = [{"replicas": counts[v], "version": v} for v in sorted(counts, key=version_order)]
    return result


def _conditions(view: ClusterView, initialized: bool) -> list[Cond]:
    probe = (
        Cond("RemoteConnectionProbe", TRUE, "ProbeSucceeded")
        if initialized
        else Cond("RemoteConnectionProbe", FALSE, "ProbeFailed", "Remote connection probe failed")
    )
    parts = [
        probe,
        _infrastructure_ready(view),
        Cond("ControlPlaneInitialized", TRUE, "Initialized")
        if initialized
        else Cond("ControlPlaneInitialized", FALSE, "NotInitialized", "Control plane not yet initialized"),
        _control_plane_available(view),
        _workers_available(view),
        _topology_reconciled(view),
    ]
    remediating, *machines = _machine_conditions(view.machines, view.now)
    return [
        _available(parts),
        *parts,
        _from_owners(view, "RollingOut", "NotRollingOut"),
        remediating,
        _from_owners(view, "ScalingDown", "NotScalingDown"),
        _from_owners(view, "ScalingUp", "NotScalingUp"),
        *machines,
        Cond("Paused", FALSE, "NotPaused"),
        _deleting(view),
    ]


def _available(parts: list[Cond]) -> Cond:
    problems, notes = [], []
    for part in parts:
        if part.type == "TopologyReconciled":
            if part.status != TRUE and part.reason in ERROR_REASONS:
                problems.append((part.type, part.message))
            elif part.status != TRUE:
                notes.append((part.type, part.message))
        elif part.status != TRUE:
            problems.append((part.type, part.message))
        elif part.message:
            notes.append((part.type, part.message))
    if problems:
        return Cond("Available", FALSE, "NotAvailable", summary(problems))
    return Cond("Available", TRUE, "Available", summary(notes))


def _infrastructure_ready(view: ClusterView) -> Cond:
    if view.infrastructure_provisioned:
        return Cond("InfrastructureReady", TRUE, "Ready")
    ref = view.cluster["spec"].get("infrastructureRef")
    if ref is None:
        return Cond(
            "InfrastructureReady", UNKNOWN, "DoesNotExist", "Waiting for the infrastructure cluster to be created"
        )
    message = view.infrastructure_error or f"{ref['kind']} status.initialization.provisioned is false"
    return Cond("InfrastructureReady", FALSE, "NotReady", message)


def _control_plane_available(view: ClusterView) -> Cond:
    missing = Cond("ControlPlaneAvailable", UNKNOWN, "DoesNotExist", "KubeadmControlPlane does not exist")
    source = find(conditions_of(view.kcp), "Available") if view.kcp is not None else None
    return mirror(source, "ControlPlaneAvailable", missing)


def _workers_available(view: ClusterView) -> Cond:
    topology = view.cluster["spec"]["topology"].get("workers", {}).get("machineDeployments", [])
    if not topology:
        return Cond("WorkersAvailable", TRUE, "NoWorkers")
    issues = []
    for deployment in view.deployments:
        found = find(conditions_of(deployment), "Available")
        if found is None or found["status"] != TRUE:
            issues.append((name_of(deployment), found["message"] if found else "Condition not yet reported"))
    if not issues:
        return Cond("WorkersAvailable", TRUE, "Available")
    return Cond("WorkersAvailable", FALSE, "NotAvailable", aggregate("MachineDeployment", issues))


def _topology_reconciled(view: ClusterView) -> Cond:
    if view.problem is not None:
        return Cond("TopologyReconciled", FALSE, "ReconcileFailed", view.problem)
    plan = view.plan
    if plan is None:
        return Cond("TopologyReconciled", TRUE, "ReconcileSucceeded")
    lines = _upgrade_lines(view, plan)
    if lines:
        message = f"Cluster is upgrading to {plan.target}\n" + "\n".join(f"  {line}" for line in lines)
        control_plane_done = view.kcp is not None and view.kcp["spec"]["version"] == plan.target
        only_deferred = control_plane_done and bool(plan.deferred) and not plan.upgrading and not plan.pending
        reason = "MachineDeploymentsUpgradeDeferred" if only_deferred else "ClusterUpgrading"
        return Cond("TopologyReconciled", FALSE, reason, message)
    if plan.pending_create:
        names = ", ".join(plan.pending_create)
        noun = "MachineDeployments" if len(plan.pending_create) > 1 else "MachineDeployment"
        message = f"Cluster is creating\n  * {noun} {names} creation deferred while the control plane is provisioning"
        return Cond("TopologyReconciled", FALSE, "ClusterCreating", message)
    return Cond("TopologyReconciled", TRUE, "ReconcileSucceeded")


def _upgrade_lines(view: ClusterView, plan: VersionPlan) -> list[str]:
    kcp = view.kcp
    lines = []
    if kcp is not None:
        reported = kcp.get("status", {}).get("versions", [])
        steps = list(plan.control_plane_steps)
        if any(v["version"] != kcp["spec"]["version"] for v in reported) or (
            steps and steps[0] == kcp["spec"]["version"]
        ):
            rest = [v for v in steps if v != kcp["spec"]["version"]]
            pending = f" ({', '.join(rest)} pending)" if rest else ""
            lines.append(f"* KubeadmControlPlane upgrading to version {kcp['spec']['version']}{pending}")
        elif kcp["spec"]["version"] != plan.target and steps:
            lines.append(f"* KubeadmControlPlane pending upgrade to version {steps[0]}")
    names = {d["metadata"]["labels"].get(TOPOLOGY_DEPLOYMENT_LABEL): name_of(d) for d in view.deployments}
    by_version: dict[str, list[str]] = {}
    for topology_name, version in plan.upgrading:
        by_version.setdefault(version, []).append(names.get(topology_name, topology_name))
    for version, upgrading in by_version.items():
        lines.append(f"* {_deployments(upgrading)} upgrading to version {version}")
    if plan.pending:
        lines.append(
            f"* {_deployments([names.get(n, n) for n in plan.pending])} pending upgrade to version {plan.target}"
        )
    if plan.deferred:
        members = _deployments([names.get(n, n) for n in plan.deferred])
        lines.append(f"* {members} upgrade deferred using defer-upgrade or hold-upgrade-sequence annotations")
    if lines and plan.pending_create:
        waiting = ", ".join(plan.pending_create)
        lines.append(f"* MachineDeployment for {waiting} creation deferred while control plane upgrade is in progress")
    return lines


def _deployments(names: list[str]) -> str:
    return f"{'MachineDeployments' if len(names) > 1 else 'MachineDeployment'} {', '.join(sorted(names))}"


def _from_owners(view: ClusterView, condition_type: str, negative: str) -> Cond:
    """A condition aggregated from the control plane's and the MachineDeployments' own (True means "happening")."""
    lines = []
    if view.kcp is not None:
        found = find(conditions_of(view.kcp), condition_type)
        if found is not None and found["status"] == TRUE:
            lines.append(bullet(f"KubeadmControlPlane {name_of(view.kcp)}", found["message"]))
    issues = []
    for deployment in view.deployments:
        found = find(conditions_of(deployment), condition_type)
        if found is not None and found["status"] == TRUE:
            issues.append((name_of(deployment), found["message"]))
    if issues:
        lines.append(aggregate("MachineDeployment", issues))
    if not lines:
        return Cond(condition_type, FALSE, negative)
    return Cond(condition_type, TRUE, condition_type, "\n".join(lines))


def _machine_conditions(machines: Sequence[Manifest], now: float) -> list[Cond]:
    """``Remediating``, then ``ControlPlaneMachinesReady``, ``WorkerMachinesReady``, ``ControlPlaneMachinesUpToDate``
    and ``WorkerMachinesUpToDate``, in one pass over the Machines (new Machines count for ``UpToDate`` only after
    :data:`NEW_MACHINE_GRACE`)."""
    flagged: list[tuple[str, str]] = []
    not_ready: tuple[list[tuple[str, str]], list[tuple[str, str]]] = ([], [])
    not_up_to_date: tuple[list[tuple[str, str]], list[tuple[str, str]]] = ([], [])
    present = [False, False]
    for machine in machines:
        name, found = machine["metadata"]["name"], summary_of(machine)
        if found.flagged:
            owner = found.owner_remediated
            flagged.append((name, owner["message"] if owner else ""))
        role = 0 if is_control_plane(machine) else 1
        present[role] = True
        ready = found.ready
        if ready is not None and ready["status"] != TRUE:
            not_ready[role].append((name, ready["message"]))
        up_to_date = found.up_to_date
        if (
            up_to_date is not None
            and up_to_date["status"] != TRUE
            and now - moment(machine["metadata"]["creationTimestamp"]) >= NEW_MACHINE_GRACE
        ):
            not_up_to_date[role].append((name, up_to_date["message"]))
    remediating = (
        Cond("Remediating", TRUE, "Remediating", aggregate("Machine", flagged))
        if flagged
        else Cond("Remediating", FALSE, "NotRemediating")
    )
    return [
        remediating,
        _machines(present[0], not_ready[0], "ControlPlaneMachinesReady", "Ready", "NotReady"),
        _machines(present[1], not_ready[1], "WorkerMachinesReady", "Ready", "NotReady"),
        _machines(present[0], not_up_to_date[0], "ControlPlaneMachinesUpToDate", "UpToDate", "NotUpToDate"),
        _machines(present[1], not_up_to_date[1], "WorkerMachinesUpToDate", "UpToDate", "NotUpToDate"),
    ]


def _machines(present: bool, issues: list[tuple[str, str]], condition_type: str, good: str, bad: str) -> Cond:
    if not present:
        return Cond(condition_type, TRUE, "NoReplicas")
    if not issues:
        return Cond(condition_type, TRUE, good)
    return Cond(condition_type, FALSE, bad, aggregate("Machine", issues))


def _deleting(view: ClusterView) -> Cond:
    if "deletionTimestamp" not in view.cluster["metadata"]:
        return Cond("Deleting", FALSE, "NotDeleting")
    count = len(view.machines)
    return Cond("Deleting", TRUE, "WaitingForWorkersDeletion", f"* Machines: {count} still deleting" if count else "")
