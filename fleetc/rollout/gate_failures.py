"""Failure signals: explicit CAPI signs that a cluster's rollout failed since its attempt started.

- a control-plane Machine at the target version with ``HealthCheckSucceeded=False``;
- a worker Machine at the target version with ``HealthCheckSucceeded=False`` that CAPI will not replace (no
  ``OwnerRemediated`` because the MachineHealthCheck does not allow remediation, or ``CannotBeRemediated``); a worker
  CAPI replaces is routine churn until more of them were remediated in this attempt than the cluster's budget
  (:func:`~fleetc.rollout.gate_objects.worker_remediation_budget`) — counting the ones already deleted
  (``ClusterObjects.remediated``), so a pool whose every machine fails ends failed instead of looping for ever;
- a KubeadmControlPlane ``status.lastRemediation`` of a Machine of this attempt;
- ``TopologyReconciled=False/ReconcileFailed``.
A signal belongs to the attempt when its Machine was created during it (not in ``Target.preexisting`` and created at
or after ``Target.since``), or when a Machine that had joined (``status.nodeRef``) broke after the attempt started; a
Machine that predates the attempt and never joined is the previous attempt's failure, which the retry replaces.
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
    health_check_failed,
    machine_version,
    subject_of,
    text,
    worker_remediation_budget,
)


def failure(objects: ClusterObjects, target: Target) -> tuple[Finding, bool] | None:
    """The first explicit failure signal and whether it is on the control plane."""
    for machine in objects.control_plane_machines():
        finding = _machine_failure(machine, target)
        if finding is not None:
            return finding, True
    worker = _worker_failure(objects, target)
    if worker is not None:
        return worker, False
    control_plane = objects.control_plane
    if control_plane is not None:
        finding = _remediation_failure(control_plane, objects.cluster, (*objects.machines, *objects.remediated), target)
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


def of_attempt(machine: Manifest, moment: str | None, target: Target) -> bool:
    """True when a Machine's signal raised at ``moment`` belongs to this attempt (see the module docstring)."""
    if target.since is None:
        return True
    if machine["metadata"]["name"] in target.preexisting:
        return bool(machine.get("status", {}).get("nodeRef")) and fresh(moment, target)
    created = machine["metadata"].get("creationTimestamp")
    if created and parse_timestamp(created) >= target.since:
        return True
    return fresh(moment, target)


def _flagged(machine: Manifest, target: Target) -> bool:
    """``HealthCheckSucceeded=False`` on a Machine at the target version, raised in this attempt."""
    if machine_version(machine) != target.version or not health_check_failed(machine):
        return False
    check = get_condition(machine, "HealthCheckSucceeded") or {}
    return of_attempt(machine, check.get("lastTransitionTime"), target)


def _worker_failure(objects: ClusterObjects, target: Target) -> Finding | None:
    """A flagged worker CAPI will not replace, or more worker remediations in this attempt than the budget."""
    live = [m for m in objects.worker_machines() if _flagged(m, target)]
    for machine in live:
        owner = get_condition(machine, "OwnerRemediated")
        if owner is None or owner.get("reason") == CANNOT_BE_REMEDIATED:
            return _machine_failure(machine, target)
    gone = [m for m in objects.remediated if CONTROL_PLANE_LABEL not in m["metadata"].get("labels", {})]
    remediated = [*(m for m in gone if _flagged(m, target)), *live]
    budget = worker_remediation_budget(objects, target)
    if len(remediated) <= budget:
        return None
    latest = _machine_failure(remediated[-1], target)
    assert latest is not None  # flagged above
    count = f"{len(remediated)} worker Machines remediated in this attempt, over the cluster's budget of {budget}"
    return Finding(latest.subject, latest.condition, f"{latest.message}; {count}")


def _machine_failure(machine: Manifest, target: Target) -> Finding | None:
    """``HealthCheckSucceeded=False`` on a Machine at the target version (and whether its owner gave up)."""
    if not _flagged(machine, target):
        return None
    check = get_condition(machine, "HealthCheckSucceeded") or {}
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
    if not last or not fresh(last.get("time"), target) or last.get("machine") in target.preexisting:
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
