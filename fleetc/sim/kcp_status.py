"""A simulated KubeadmControlPlane's v1beta2 status.

Follows ``controlplane/kubeadm/reconcilers/kubeadmcontrolplane/status.go``: replica counters from the Machines'
Ready/Available/UpToDate conditions (setReplicas L212), ``versions`` from their kubelet versions (L147-153),
``Available`` (L551-800: initialized, at least one Machine with healthy components, etcd quorum),
``RollingOut`` (L249-298), ``ScalingUp``/``ScalingDown`` with preflight blockers (getPreflightMessages
L874-905), ``Remediating`` (L494-530) and ``lastRemediation`` (setLastRemediation L809-835); etcd and
component health aggregate the Machines' conditions (``controlplane/kubeadm/pkg/workload_cluster_conditions.go``).
"""

from __future__ import annotations

import json
from typing import Any

from fleetc.contract.objects import annotations_of, name_of
from fleetc.contract.vocabulary import CLUSTER_NAME_LABEL, CONTROL_PLANE_LABEL, REMEDIATION_FOR, REMEDIATION_IN_PROGRESS
from fleetc.sim.kcp_scope import ControlPlane
from fleetc.sim.machines import Counters, kcp_outdated_reasons, versions
from fleetc.sim.status import FALSE, TRUE, UNKNOWN, Cond, aggregate, build, conditions_of, find

NOT_INITIALIZED = "Control plane not yet initialized"
WAITING_FOR_INIT = "Waiting for Cluster control plane to be initialized"


def kcp_status(cp: ControlPlane) -> dict[str, Any]:
    """The whole ``status`` of the KubeadmControlPlane."""
    kcp, machines = cp.kcp, cp.machines
    counters = Counters.of(machines)
    generation = kcp["metadata"]["generation"]
    cluster = kcp["metadata"].get("labels", {}).get(CLUSTER_NAME_LABEL, "")
    status: dict[str, Any] = {
        "availableReplicas": counters.available,
        "conditions": build(conditions_of(kcp), _conditions(cp), generation, cp.now),
        "observedGeneration": generation,
        "readyReplicas": counters.ready,
        "replicas": counters.replicas,
        "selector": f"{CLUSTER_NAME_LABEL}={cluster},{CONTROL_PLANE_LABEL}",
        "upToDateReplicas": counters.up_to_date,
    }
    if cp.initialized:
        status["initialization"] = {"controlPlaneInitialized": True}
    last = last_remediation(cp)
    if last is not None:
        status["lastRemediation"] = last
    found = versions(machines)
    if found:
        status["version"] = found[0]["version"]
        status["versions"] = found
    return status


def last_remediation(cp: ControlPlane) -> dict[str, Any] | None:
    """From the remediation in progress, else the newest ``remediation-for`` on a Machine."""
    value = annotations_of(cp.kcp).get(REMEDIATION_IN_PROGRESS)
    if value is None:
        records = [annotations_of(m).get(REMEDIATION_FOR) for m in cp.machines]
        found = sorted((json.loads(r) for r in records if r), key=lambda d: d["timestamp"])
        if not found:
            previous: dict[str, Any] | None = cp.kcp.get("status", {}).get("lastRemediation")
            return previous
        data = found[-1]
    else:
        data = json.loads(value)
    return {"machine": data["machine"], "retryCount": data["retryCount"], "time": data["timestamp"]}


def _conditions(cp: ControlPlane) -> list[Cond]:
    return [
        _available(cp),
        Cond("CertificatesAvailable", TRUE, "Available"),
        Cond("Initialized", TRUE, "Initialized") if cp.initialized else Cond("Initialized", FALSE, "NotInitialized"),
        _health(cp, "EtcdClusterHealthy", "EtcdMemberHealthy", "EtcdMemberHealthy"),
        _health(cp, "ControlPlaneComponentsHealthy", "APIServerPodHealthy", "Control plane components"),
        _rolling_out(cp),
        _remediating(cp),
        _scaling(cp, "down"),
        _scaling(cp, "up"),
        _machines_ready(cp),
        _machines_up_to_date(cp),
        Cond("Paused", FALSE, "NotPaused"),
        Cond("Deleting", FALSE, "NotDeleting"),
    ]


def _available(cp: ControlPlane) -> Cond:
    if not cp.initialized:
        return Cond("Available", FALSE, "NotAvailable", NOT_INITIALIZED)
    provisioned = [m for m in cp.machines if "providerID" in m["spec"]]
    healthy = [m for m in provisioned if cp.healthy(m)]
    members = cp.etcd_members()
    healthy_members = sum(1 for m in members if cp.healthy(m))
    quorum = len(members) // 2 + 1
    lines = []
    if len(healthy) < len(provisioned):
        count = f"{len(healthy)} of {len(provisioned)}"
        lines.append(f"* {count} Machines have healthy control plane components, at least 1 required")
    if healthy_members < len(members):
        count = f"{healthy_members} of {len(members)}"
        lines.append(f"* {count} etcd members are healthy, at least {quorum} required for etcd quorum")
    ok = bool(healthy) and healthy_members >= quorum
    return Cond("Available", TRUE if ok else FALSE, "Available" if ok else "NotAvailable", "\n".join(lines))


def _health(cp: ControlPlane, condition_type: str, machine_condition: str, label: str) -> Cond:
    if not cp.initialized:
        return Cond(condition_type, UNKNOWN, "InspectionFailed", WAITING_FOR_INIT)
    issues = []
    worst = TRUE
    for machine in cp.machines:
        if "providerID" not in machine["spec"] or "deletionTimestamp" in machine["metadata"]:
            continue
        found = find(conditions_of(machine), machine_condition)
        if found is None or found["status"] == TRUE:
            continue
        worst = FALSE if FALSE in (worst, found["status"]) else UNKNOWN
        issues.append((name_of(machine), f"* {label}: {found['message']}"))
    if worst == TRUE:
        return Cond(condition_type, TRUE, "Healthy")
    reason = "NotHealthy" if worst == FALSE else "HealthUnknown"
    return Cond(condition_type, worst, reason, aggregate("Machine", issues))


def _rolling_out(cp: ControlPlane) -> Cond:
    reasons: list[str] = []
    count = 0
    for machine in cp.machines:
        found = kcp_outdated_reasons(machine, cp.kcp)
        if found:
            count += 1
            reasons += [r for r in found if r not in reasons]
    if not count:
        return Cond("RollingOut", FALSE, "NotRollingOut")
    message = f"Rolling out {count} not up-to-date replicas\n" + "\n".join(f"* {r}" for r in reasons)
    return Cond("RollingOut", TRUE, "RollingOut", message)


def _remediating(cp: ControlPlane) -> Cond:
    issues = []
    for machine in cp.to_remediate:
        owner = find(conditions_of(machine), "OwnerRemediated")
        issues.append((name_of(machine), owner["message"] if owner else ""))
    if not issues:
        return Cond("Remediating", FALSE, "NotRemediating")
    return Cond("Remediating", TRUE, "Remediating", aggregate("Machine", issues))


def _scaling(cp: ControlPlane, direction: str) -> Cond:
    current, desired = len(cp.machines), cp.desired_replicas
    condition_type = "ScalingUp" if direction == "up" else "ScalingDown"
    if (direction == "up" and current >= desired) or (direction == "down" and current <= desired):
        return Cond(condition_type, FALSE, f"Not{condition_type}")
    message = f"Scaling {direction} from {current} to {desired} replicas"
    if cp.blocked is not None and cp.blocked.direction == direction:
        message += " is blocked because:\n" + "\n".join(cp.blocked.messages)
    return Cond(condition_type, TRUE, condition_type, message)


def _machines_ready(cp: ControlPlane) -> Cond:
    issues = []
    for machine in cp.machines:
        ready = find(conditions_of(machine), "Ready")
        if ready is not None and ready["status"] != TRUE:
            issues.append((name_of(machine), ready["message"]))
    if not cp.machines:
        return Cond("MachinesReady", TRUE, "NoReplicas")
    if not issues:
        return Cond("MachinesReady", TRUE, "Ready")
    return Cond("MachinesReady", FALSE, "NotReady", aggregate("Machine", issues))


def _machines_up_to_date(cp: ControlPlane) -> Cond:
    issues = []
    for machine in cp.machines:
        found = find(conditions_of(machine), "UpToDate")
        if found is not None and found["status"] != TRUE:
            issues.append((name_of(machine), found["message"]))
    if not cp.machines:
        return Cond("MachinesUpToDate", TRUE, "NoReplicas")
    if not issues:
        return Cond("MachinesUpToDate", TRUE, "UpToDate")
    return Cond("MachinesUpToDate", FALSE, "NotUpToDate", aggregate("Machine", issues))
