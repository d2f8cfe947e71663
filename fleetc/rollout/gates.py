"""Health gates: does one workload cluster run the target revision, healthy? Read from CAPI v1beta2 status only.

Pure functions over the management-cluster objects of one workload cluster (Cluster, KubeadmControlPlane, control
plane and worker Machines, MachineDeployments, MachineSets, MachineHealthChecks): no store, no clock, nothing
specific to the simulation, so the same code judges the embedded plane and a real management cluster.
Callers: the rollout controller (:mod:`fleetc.rollout.controller`, for every cluster in flight, each
time one of its objects changes) and read-side commands that show why a cluster is not done.

The rules follow ``shared/capi/v1.14.0/status-fixtures/README.md`` §3–4 and the CAPI semantics reference §2.4:

- **failed** on an explicit CAPI failure signal raised since the cluster's rollout started (``Target.since``; an
  older signal is history, e.g. the machine a retry after a fix is about to replace): a Machine at the target
  version with ``HealthCheckSucceeded=False`` (its owner's ``OwnerRemediated=False/CannotBeRemediated`` is added to
  the reason), a KubeadmControlPlane ``status.lastRemediation``, or ``TopologyReconciled=False/ReconcileFailed``;
- **healthy** when every completion check holds (spec propagated and observed, ``status.versions`` a single entry
  at the target or none for a pool scaled to zero, replica counters equal, the KCP and Cluster conditions, every
  Machine at the target with a healthy Node, and for the whole cluster the MachineDeployments, no upgrade plan and
  ``TopologyReconciled=True``);
- **progressing** otherwise, naming the first thing still missing — a reported condition rather than a status
  not yet observed for the current generation, when both hold (real CAPI is often a step behind on one object
  while another's condition already says why).
Time never enters a verdict: a control plane that never comes up and shows no failure signal (no
MachineHealthCheck) stays progressing, and the rollout controller fails it at the wave's deadline.
Conditions are matched on type/status/reason, never on message text; ``TopologyReconciled=False/ClusterUpgrading``,
KCP ``Available`` and Machine ``phase`` are never failure signals on their own.

This module holds :func:`evaluate` and is where callers import from; the parts: :mod:`~fleetc.rollout.gate_objects`
(the objects read, target, findings, verdicts, status readers), :mod:`~fleetc.rollout.gate_failures` (failure
signals), :mod:`~fleetc.rollout.gate_completion` (completion checks).
"""

from __future__ import annotations

from fleetc.rollout.gate_completion import control_plane_checks, worker_checks
from fleetc.rollout.gate_failures import failure
from fleetc.rollout.gate_objects import (
    ClusterObjects,
    Finding,
    Health,
    Target,
    Verdict,
    telling,
    text,
)

__all__ = [
    "ClusterObjects",
    "Finding",
    "Health",
    "Target",
    "Verdict",
    "evaluate",
    "text",
]


def evaluate(objects: ClusterObjects, target: Target) -> Verdict:
    """The verdict for one cluster at ``target``."""
    name = objects.name
    failed = failure(objects, target)
    control_plane = telling(control_plane_checks(objects, target))
    cp_health = Health.HEALTHY if control_plane is None else Health.PROGRESSING
    if failed is not None:
        finding, on_control_plane = failed
        return Verdict(name, Health.FAILED, Health.FAILED if on_control_plane else cp_health, finding)
    if control_plane is not None:
        return Verdict(name, Health.PROGRESSING, Health.PROGRESSING, control_plane)
    workers = telling(worker_checks(objects, target))
    if workers is not None:
        return Verdict(name, Health.PROGRESSING, Health.HEALTHY, workers)
    return Verdict(name, Health.HEALTHY, Health.HEALTHY)
