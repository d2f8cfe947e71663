"""The stages of a simulated Machine's deletion: drain its Node, wait for pre-terminate hooks, delete its machine.

Follows ``core/reconcilers/machine/machine_controller.go`` reconcileDelete (L465-640) at CAPI v1.14, one pass at a
time: while a stage is not done the Machine keeps its finalizer and reports it in ``Deleting`` (reason and message)
and ``status.deletion``; the finalizer goes once every stage is done.

- **Drain** (``DrainingNode``), only when the Machine has a Node (``status.nodeRef``; a deleted Node is not
  drained), its Cluster is not being deleted (``isDeleteNodeAllowed``), no
  ``machine.cluster.x-k8s.io/exclude-node-draining`` annotation and no pre-terminate wait started yet
  (``isNodeDrainAllowed`` L682-700): ``status.deletion.nodeDrainStartTime`` is set when it starts. The simulation
  has no Pods, so a drain finishes at once unless a PodDisruptionBudget fault refuses the evictions
  (:meth:`~fleetc.sim.infra.InfrastructureProvider.drain_blocked_until`); then CAPI waits — for ever, unless
  ``spec.deletion.nodeDrainTimeoutSeconds`` (> 0) has passed since the drain started, after which the drain is
  skipped (``nodeDrainTimeoutExceeded`` L724-738). Message: ``Drain not completed yet (started at …):`` and the Pod
  that cannot be evicted (``drain.go`` ``ConditionMessage``).
- **Volume detach** (``WaitingForVolumeDetach``) follows, under the same conditions but for the drain's annotation
  (``machine.cluster.x-k8s.io/exclude-wait-for-node-volume-detach`` skips it) and timeout
  (``isNodeVolumeDetachingAllowed`` L704-722): ``status.deletion.waitForNodeVolumeDetachStartTime`` is set, then
  CAPI waits while the Node still has a volume attached — never for a Node that is gone or unreachable
  (``shouldWaitForNodeVolumes`` L956-1013). The simulation has no volumes: a Node keeps one only under a
  stuck-volume fault (:meth:`~fleetc.sim.infra.InfrastructureProvider.volumes_attached_until`), and then
  ``spec.deletion.nodeVolumeDetachTimeoutSeconds`` (> 0) ends the wait (``nodeVolumeDetachTimeoutExceeded``
  L743-757). Message: ``Waiting for Node volumes to be detached (started at …)`` and the claim
  (``attachedVolumeInformation.conditionMessage`` L1318-1346).
- **Pre-terminate hooks** (``WaitingForPreTerminateHook``): KCP's ``kcp-cleanup`` hook, while the owning
  KubeadmControlPlane exists; KCP lifts it once the Machine waits here (:mod:`fleetc.sim.kcp`).
- **Infrastructure** (``WaitingForInfrastructureDeletion``, ``Waiting for <Kind> to be deleted``): the provider's
  :meth:`~fleetc.sim.infra.InfrastructureProvider.delete_machine` answers when the machine is gone (a slow-deletion
  fault delays it); the time is recorded on the Machine (``sim.fleetc.io/infrastructure-deleted-at``).

Caller: :class:`fleetc.sim.machine.SimulatedMachineReconciler`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fleetc.contract.objects import annotations_of
from fleetc.contract.vocabulary import PRE_TERMINATE_KCP
from fleetc.core.keys import Manifest
from fleetc.sim.api import EXCLUDE_DRAIN_ANNOTATION, EXCLUDE_VOLUME_DETACH_ANNOTATION, SIM_INFRA_DELETED, moment, stamp
from fleetc.sim.machines import has_node_ref, vm_ready_at

DRAINING, DETACHING, PRE_TERMINATE, INFRASTRUCTURE = (
    "DrainingNode",
    "WaitingForVolumeDetach",
    "WaitingForPreTerminateHook",
    "WaitingForInfrastructureDeletion",
)
PDB_POD = "kube-system/simulated-pdb-guarded"
VOLUME_CLAIM = "default/simulated-data"
"""The PersistentVolumeClaim of the volume a stuck-volume fault keeps attached."""
PDB_MESSAGE = (
    "cannot evict pod as it would violate the pod's disruption budget. "
    "The disruption budget simulated-pdb needs 1 healthy pods and has 1 currently"
)


@dataclass
class DeletionInputs:
    """What one deletion pass needs from the Machine controller (the provider calls are bound to the Machine)."""

    now: float
    node_deleted: bool
    node_unreachable: bool
    cluster_deleting: bool
    owner_alive: bool
    infrastructure_kind: str
    drain_blocked_until: Callable[[float], float | None]
    volumes_attached_until: Callable[[float], float | None]
    delete_infrastructure: Callable[[], float]


@dataclass
class DeletionStage:
    """Where a deleting Machine stands: the stage it waits in (None: done), ``status.deletion``, and when to look
    again; ``gone_at`` is a newly learned infrastructure deletion time to record."""

    reason: str | None
    message: str = ""
    deletion: dict[str, Any] = field(default_factory=dict)
    due: float | None = None
    gone_at: float | None = None


def deletion_stage(machine: Manifest, inputs: DeletionInputs) -> DeletionStage:
    """The stage of a deleting Machine's deletion after this pass."""
    now = inputs.now
    deletion: dict[str, Any] = dict(machine.get("status", {}).get("deletion", {}))
    notes = annotations_of(machine)
    # the Node's stages: only with a Node, not when the Cluster goes, and not once the pre-terminate wait began
    node_stages = (
        has_node_ref(machine) and not inputs.cluster_deleting and "waitForPreTerminateHookStartTime" not in deletion
    )
    drain_allowed = node_stages and not inputs.node_deleted and EXCLUDE_DRAIN_ANNOTATION not in notes
    if drain_allowed and not _timed_out(machine, "nodeDrainTimeoutSeconds", deletion, now):
        draining = _waiting(machine, deletion, now, "nodeDrainTimeoutSeconds", inputs.drain_blocked_until)
        if draining is not None:
            message = f"Drain not completed yet (started at {draining[0]}):\n* Pod {PDB_POD}: {PDB_MESSAGE}"
            return DeletionStage(DRAINING, message, deletion, draining[1])
    detach_allowed = node_stages and EXCLUDE_VOLUME_DETACH_ANNOTATION not in notes
    if detach_allowed and not _timed_out(machine, "nodeVolumeDetachTimeoutSeconds", deletion, now):
        unreachable = inputs.node_deleted or inputs.node_unreachable  # nothing to wait for on a Node that is gone
        attached = (lambda started: None) if unreachable else inputs.volumes_attached_until
        detaching = _waiting(machine, deletion, now, "nodeVolumeDetachTimeoutSeconds", attached)
        if detaching is not None:
            message = (
                f"Waiting for Node volumes to be detached (started at {detaching[0]})\n"
                f"* PersistentVolumeClaims: {VOLUME_CLAIM}"
            )
            return DeletionStage(DETACHING, message, deletion, detaching[1])
    if PRE_TERMINATE_KCP in notes and inputs.owner_alive:
        deletion.setdefault("waitForPreTerminateHookStartTime", stamp(now))
        return DeletionStage(PRE_TERMINATE, f"Waiting for pre-terminate hooks to succeed (hooks: {PRE_TERMINATE_KCP})",
                             deletion)  # fmt: skip
    if vm_ready_at(machine) is None:
        return DeletionStage(None, deletion=deletion)
    recorded = notes.get(SIM_INFRA_DELETED)
    gone = moment(recorded) if recorded else inputs.delete_infrastructure()
    learned = None if recorded else gone
    if gone > now:
        message = f"Waiting for {inputs.infrastructure_kind} to be deleted"
        return DeletionStage(INFRASTRUCTURE, message, deletion, gone, learned)
    return DeletionStage(None, deletion=deletion, gone_at=learned)


def _waiting(
    machine: Manifest,
    deletion: dict[str, Any],
    now: float,
    timeout_field: str,
    held_until: Callable[[float], float | None],
) -> tuple[str, float | None] | None:
    """A drain or volume wait: its start is recorded in ``deletion`` (now, the first time); while ``held_until`` (given
    that start) holds it, when it started and when to look again (the fault's end or the stage's timeout; None:
    never); None when nothing holds it."""
    started_text: str = deletion.setdefault(_STARTED[timeout_field], stamp(now))
    started = moment(started_text)
    until = held_until(started)
    if until is None or until <= now:
        return None
    timeout = _timeout(machine, timeout_field)
    due = min(until, started + timeout) if timeout > 0 else until
    return started_text, None if math.isinf(due) else due


_STARTED = {"nodeDrainTimeoutSeconds": "nodeDrainStartTime",
            "nodeVolumeDetachTimeoutSeconds": "waitForNodeVolumeDetachStartTime"}  # fmt: skip
"""Each stage's timeout in ``spec.deletion`` and the time its wait started in ``status.deletion``."""


def _timeout(machine: Manifest, field: str) -> int:
    """``spec.deletion.<field>`` in seconds (0: none, wait as long as it takes)."""
    timeout: int = machine["spec"].get("deletion", {}).get(field, 0) or 0
    return timeout


def _timed_out(machine: Manifest, field: str, deletion: dict[str, Any], now: float) -> bool:
    """The stage whose timeout is ``spec.deletion.<field>`` started and has waited that long."""
    timeout = _timeout(machine, field)
    started = deletion.get(_STARTED[field])
    return timeout > 0 and started is not None and now - moment(started) >= timeout
