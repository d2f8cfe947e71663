"""Failure signals: explicit CAPI signs that a cluster's rollout failed since its attempt started.

A Machine at the target version with ``HealthCheckSucceeded=False`` (its owner's
``OwnerRemediated=False/CannotBeRemediated`` added to the reason), a KubeadmControlPlane ``status.lastRemediation``,
or ``TopologyReconciled=False/ReconcileFailed``; a signal older than ``Target.since`` is history.
Caller: :func:`fleetc.rollout.gates.evaluate`.
"""

from __future__ import annotations

from collections.abc import Iterable

from fleetc.contract.conditions import get_condition
from fleetc.contract.timestamps import parse_timestamp
from fleetc.contract.vocabulary import CONTROL_PLANE_LABEL
from fleetc.core.keys import Manifest
from fleetc.rollout.gate_objects import (
    CANNOT_BE_REMEDIATED,
    RECONCILE_FAILED,
    ClusterObjects,
    Finding,
    Target,
    describe,
    machine_version,
    subject_of,
    text,
)


def failure(objects: ClusterObjects, target: Target) -> tuple[Finding, bool] | None:
    """The first explicit failure signal and whether it is on the control plane."""
    for machine in (*objects.control_plane_machines(), *objects.worker_machines()):
        finding = _machine_failure(machine, target)
        if finding is not None:
            return finding, CONTROL_PLANE_LABEL in machine["metadata"].get("labels", {})
    control_plane = objects.control_plane
    if control_plane is not None:
        finding = _remediation_failure(control_plane, objects.cluster, objects.machines, target)
        if finding is not None:
            return finding, True
    if objects.cluster is not None:
        condition = get_condition(objects.cluster, "TopologyReconciled")
        failed = condition and condition.get("status") == "False" and condition.get("reason") == RECONCILE_FAILED
        if condition and failed and fresh(condition.get("lastTransitionTime"), target):
            return Finding(subject_of(objects.cluster), describe(condition), text(condition.get("message", ""))), False
    return None


def fresh(moment: str | None, target: Target) -> bool:
    """True when a signal raised at ``moment`` belongs to this attempt (unknown times count)."""
    # Strictly after: times have one-second resolution, and a signal stamped in the second an attempt (a retry)
    # started was raised before it — nothing new can fail within a second of starting.
    return target.since is None or not moment or parse_timestamp(moment) > target.since


def _machine_failure(machine: Manifest, target: Target) -> Finding | None:
    """``HealthCheckSucceeded=False`` on a Machine at the target version (and whether its owner gave up)."""
    if machine_version(machine) != target.version:
        return None
    check = get_condition(machine, "HealthCheckSucceeded")
    if check is None or check.get("status") != "False" or not fresh(check.get("lastTransitionTime"), target):
        return None
    message = text(check.get("message", ""))
    owner = get_condition(machine, "OwnerRemediated")
    if owner is not None and owner.get("reason") == CANNOT_BE_REMEDIATED:
        message += f"; {describe(owner)}: {text(owner.get('message', ''))}"
    return Finding(subject_of(machine), describe(check), message)


def _remediation_failure(
    control_plane: Manifest, cluster: Manifest | None, machines: Iterable[Manifest], target: Target
) -> Finding | None:
    """A KubeadmControlPlane remediation since the rollout started: the control plane failed to come up."""
    last = control_plane.get("status", {}).get("lastRemediation")
    if not last or not fresh(last.get("time"), target):
        return None
    if any(
        m["metadata"]["name"] == last.get("machine") and not fresh(m["metadata"].get("creationTimestamp"), target)
        for m in machines
    ):
        return None  # the remediated machine predates this attempt
    message = (
        f"Machine {last.get('machine')} failed its health check (HealthCheckSucceeded=False) and was remediated"
        f" at {last['time']} (retry {last.get('retryCount', 0)})"
    )
    initialized = get_condition(cluster, "ControlPlaneInitialized") if cluster else None
    if initialized is not None and initialized.get("status") != "True":
        message += f"; Cluster {describe(initialized)}: {text(initialized.get('message', ''))}"
    return Finding(subject_of(control_plane), "status.lastRemediation", message)
