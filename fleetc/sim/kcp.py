"""The simulated KubeadmControlPlane controller: create, roll and remediate control-plane Machines.

Follows ``controlplane/kubeadm/reconcilers/kubeadmcontrolplane/`` at CAPI v1.14:

- ``kubeadmcontrolplane_controller.go`` reconcileControlPlane: remediation first, then a rollout of Machines
  needing it, then scaling; the first Machine initialises the control plane (kubeadm init), later ones join;
- ``update.go`` rollingUpdate: ``maxReplicas = replicas + maxSurge`` (maxSurge 0 or 1); below it scale up one
  new Machine, at it scale down one outdated Machine — one Machine at a time;
- ``preflight.go``: every scale operation waits while a Machine is deleting or any other Machine lacks a Node or
  healthy components / etcd member; there is no KCP timeout, so a new Machine that never gets a Node stalls
  the rollout until a MachineHealthCheck flags it;
- ``scale.go`` selectMachineForInPlaceUpdateOrScaleDown: the victim is a Machine with the
  ``cluster.x-k8s.io/delete-machine`` annotation, else an outdated Machine with unhealthy components, else an
  outdated one, the oldest in the failure domain with the most of them; etcd membership is removed through the
  ``kcp-cleanup`` pre-terminate hook, which KCP lifts (reconcilePreTerminateHook) from the first deleted Machine
  once that Machine waits for it (drained: ``Deleting`` reason ``WaitingForPreTerminateHook``);
- ``remediation.go``: one remediation at a time, tracked by the ``remediation-in-progress`` annotation and carried
  to the replacement as ``remediation-for``; retry limits ``maxRetry`` (unset: unlimited), ``retryPeriodSeconds``
  (default 0) and ``minHealthyPeriodSeconds`` (default 3600) as in ``checkRetryLimits`` L484-575; when initialised,
  no remediation of the last replica, while another Machine provisions or deletes, or when etcd would lose quorum.
"""

from __future__ import annotations

import json
from typing import NamedTuple

from fleetc.contract.objects import annotations_of, is_deleting, labels, name_of
from fleetc.contract.vocabulary import (
    BOOTSTRAP_GROUP,
    CAPI_API,
    CAPI_GROUP,
    CLUSTER,
    CLUSTER_NAME_LABEL,
    CONTROL_PLANE_GROUP,
    CONTROL_PLANE_LABEL,
    CONTROL_PLANE_NAME_LABEL,
    MACHINE,
    MACHINE_FINALIZER,
    PRE_TERMINATE_KCP,
    REMEDIATION_FOR,
    REMEDIATION_IN_PROGRESS,
)
from fleetc.core.keys import Manifest, ObjectKey
from fleetc.runtime.manager import Mapper, Request, Result, Watch, owner_of
from fleetc.sim.api import SIM_INFRA_TEMPLATE, SIM_KUBEADM_CONFIG, moment, owner_reference, stamp
from fleetc.sim.context import ChangedView, SettledFilter, SettlingReconciler, SimContext, with_metadata
from fleetc.sim.in_place import SyncedTemplates, copy_to_machines
from fleetc.sim.kcp_scope import ControlPlane
from fleetc.sim.kcp_status import kcp_status
from fleetc.sim.machine import infrastructure_provisioned
from fleetc.sim.machines import has_node_ref, infrastructure_kind, kubeadm_config_hash, owner_view
from fleetc.sim.status import FALSE, TRUE, Cond, build, conditions_of, find

READINESS_GATES = (
    "NodeKubeadmLabelsAndTaintsSet",
    "APIServerPodHealthy",
    "ControllerManagerPodHealthy",
    "SchedulerPodHealthy",
    "EtcdPodHealthy",
    "EtcdMemberHealthy",
)
DEFAULT_MIN_HEALTHY_PERIOD = 3600
KCP_IN_PLACE = ("deletion",)
"""The machine template fields KubeadmControlPlane copies into its Machines in place (:mod:`fleetc.sim.in_place`;
its machine template has no ``minReadySeconds`` or ``taints``, and it sets ``readinessGates`` itself)."""


class RemediationPolicy(NamedTuple):
    """``spec.remediation`` with CAPI's defaults."""

    max_retry: int | None
    retry_period: int
    min_healthy_period: int

    @classmethod
    def of(cls, kcp: Manifest) -> RemediationPolicy:
        """The policy of a KubeadmControlPlane."""
        spec = kcp["spec"].get("remediation", {})
        return cls(
            spec.get("maxRetry"),
            spec.get("retryPeriodSeconds", 0),
            spec.get("minHealthyPeriodSeconds", DEFAULT_MIN_HEALTHY_PERIOD),
        )


class SimulatedKubeadmControlPlaneReconciler(SettlingReconciler):
    """Simulated CAPI KubeadmControlPlane controller."""

    name = "sim-kubeadmcontrolplane"
    level = 3
    """After its Machines, before the Cluster."""
    group = CONTROL_PLANE_GROUP
    kind = "KubeadmControlPlane"

    def __init__(self, ctx: SimContext) -> None:
        self.ctx = ctx
        self.gate = SettledFilter(ctx)
        self._synced = SyncedTemplates()
        self._infrastructure: dict[ObjectKey, bool] = {}

    def watches(self) -> list[Watch]:
        """Its Machines, and its Cluster when the Cluster's infrastructure becomes ready."""
        return [
            Watch(
                CAPI_GROUP,
                "Machine",
                self.gate.waking(ChangedView(owner_view, owner_of("KubeadmControlPlane"), map_first=True)),
            ),
            Watch(CAPI_GROUP, "Cluster", self.gate.waking(self._cluster_infrastructure_changed())),
        ]

    def reconcile(self, request: Request) -> Result:
        """Observe, act once (remediate, roll out, scale), then report."""
        kcp = self.ctx.cache.find(request.key)
        if self.gate.settled(request.key, kcp) or kcp is None:
            return self.gate.rest(request.key)
        cp = self._current_state(request.key)
        assert cp is not None
        wanted = cp.kcp["spec"]["machineTemplate"]["spec"]
        if copy_to_machines(self.ctx, self._synced, cp.kcp, wanted, cp.machines, KCP_IN_PLACE):
            cp = self._current_state(request.key)
            assert cp is not None
        requeue = self._reconcile_state(cp)
        cp = self._current_state(request.key, blocked_from=cp)
        assert cp is not None
        self.ctx.write_status(cp.kcp, kcp_status(cp))
        return self.gate.settle(request.key, Result(requeue_after=requeue))

    # current state

    def _current_state(self, kcp_key: ObjectKey, blocked_from: ControlPlane | None = None) -> ControlPlane | None:
        kcp = self.ctx.cache.find(kcp_key)
        if kcp is None:
            return None
        namespace = kcp_key.namespace
        cluster_name = labels(kcp).get(CLUSTER_NAME_LABEL, "")
        cluster = self.ctx.cache.get(CLUSTER, namespace, cluster_name)
        machines = list(
            self.ctx.cache.labelled(MACHINE, namespace, cluster_name, CONTROL_PLANE_NAME_LABEL, kcp_key.name)
        )
        cp = ControlPlane(kcp, cluster, machines, self.ctx.now())
        if blocked_from is not None:
            cp.blocked = blocked_from.blocked
        return cp

    # reconcile state: at most one operation

    def _reconcile_state(self, cp: ControlPlane) -> float | None:
        if not infrastructure_provisioned(cp.cluster):
            return None
        self._lift_pre_terminate_hooks(cp)
        acted, requeue = self._reconcile_unhealthy(cp)
        if acted:
            return requeue
        if cp.outdated:
            self._rolling_update(cp)
        elif not cp.machines:
            self._create_machine(cp)
        elif len(cp.machines) < cp.desired_replicas:
            self._scale_up(cp)
        elif len(cp.machines) > cp.desired_replicas:
            self._scale_down(cp, [m for m in cp.machines if not is_deleting(m)])
        return requeue

    def _rolling_update(self, cp: ControlPlane) -> None:
        if len(cp.machines) < cp.desired_replicas + cp.max_surge:
            self._scale_up(cp)
        else:
            self._scale_down(cp, cp.outdated)

    def _scale_up(self, cp: ControlPlane) -> None:
        if cp.preflight("up"):
            self._create_machine(cp)

    def _scale_down(self, cp: ControlPlane, candidates: list[Manifest]) -> None:
        if not candidates:
            return
        victim = cp.scale_down_victim(candidates)
        if cp.preflight("down", excluding=victim):
            self.ctx.delete(victim)

    def _lift_pre_terminate_hooks(self, cp: ControlPlane) -> None:
        """The etcd member of the deleting Machine deleted first is removed once the Machine waits for its
        ``kcp-cleanup`` hook (drain done); the hook goes (``reconcilePreTerminateHook``)."""
        waiting = [m for m in cp.deleting if PRE_TERMINATE_KCP in annotations_of(m)]
        if len(waiting) != len(cp.deleting) or not waiting:
            return
        machine = min(waiting, key=lambda m: (m["metadata"]["deletionTimestamp"], name_of(m)))
        deleting = find(conditions_of(machine), "Deleting")
        if deleting is None or deleting["status"] != TRUE or deleting["reason"] != "WaitingForPreTerminateHook":
            return
        kept = {k: v for k, v in annotations_of(machine).items() if k != PRE_TERMINATE_KCP}
        self.ctx.write(machine, metadata=with_metadata(machine, annotations=kept))

    # creating Machines

    def _create_machine(self, cp: ControlPlane) -> None:
        kcp = cp.kcp
        name = self.ctx.fresh_name(MACHINE, cp.namespace, name_of(kcp))
        template_spec = kcp["spec"]["machineTemplate"]["spec"]
        infra_ref = template_spec["infrastructureRef"]
        phase = "join" if cp.machines or cp.initialized else "init"
        notes = {
            PRE_TERMINATE_KCP: "",
            SIM_INFRA_TEMPLATE: infra_ref["name"],
            SIM_KUBEADM_CONFIG: f"{phase}/{kubeadm_config_hash(kcp)}",
        }
        in_progress = annotations_of(kcp).get(REMEDIATION_IN_PROGRESS)
        if in_progress is not None:
            notes[REMEDIATION_FOR] = in_progress
        template_labels = kcp["spec"]["machineTemplate"].get("metadata", {}).get("labels", {})
        machine_labels = {
            **template_labels,
            CLUSTER_NAME_LABEL: labels(kcp).get(CLUSTER_NAME_LABEL, ""),
            CONTROL_PLANE_LABEL: "",
            CONTROL_PLANE_NAME_LABEL: name_of(kcp),
        }
        self.ctx.create(
            {
                "apiVersion": CAPI_API,
                "kind": "Machine",
                "metadata": {
                    "name": name,
                    "namespace": cp.namespace,
                    "labels": dict(sorted(machine_labels.items())),
                    "annotations": dict(sorted(notes.items())),
                    "ownerReferences": [owner_reference(kcp)],
                    "finalizers": [MACHINE_FINALIZER],
                },
                "spec": {
                    "bootstrap": {"configRef": {"apiGroup": BOOTSTRAP_GROUP, "kind": "KubeadmConfig", "name": name}},
                    "clusterName": labels(kcp).get(CLUSTER_NAME_LABEL, ""),
                    "infrastructureRef": {
                        "apiGroup": infra_ref["apiGroup"],
                        "kind": infrastructure_kind(infra_ref),
                        "name": name,
                    },
                    "readinessGates": [{"conditionType": gate} for gate in READINESS_GATES],
                    "version": kcp["spec"]["version"],
                    **{f: template_spec[f] for f in KCP_IN_PLACE if f in template_spec},
                },
            }
        )
        if in_progress is not None:
            kept = {k: v for k, v in annotations_of(kcp).items() if k != REMEDIATION_IN_PROGRESS}
            self.ctx.write(kcp, metadata=with_metadata(kcp, annotations=kept))

    # remediation

    def _reconcile_unhealthy(self, cp: ControlPlane) -> tuple[bool, float | None]:
        """Remediate one MHC-flagged Machine if allowed: (acted, when to look again)."""
        if not cp.to_remediate:
            return False, None
        order = {name_of(m): index for index, m in enumerate(cp.machines)}
        target = sorted(cp.to_remediate, key=lambda m: (has_node_ref(m), order[name_of(m)]))[0]
        if is_deleting(target):
            self._owner_remediated(target, "MachineDeleting", "Machine is deleting")
            return False, None
        if REMEDIATION_IN_PROGRESS in annotations_of(cp.kcp):
            return False, None
        allowed, retry_count, requeue = self._check_retry_limits(cp, target)
        if not allowed or not self._safe_to_remediate(cp, target):
            return False, requeue
        record = {"machine": name_of(target), "timestamp": stamp(cp.now), "retryCount": retry_count}
        self._owner_remediated(target, "MachineDeleting", "Machine is deleting")
        self.ctx.delete(self._fresh(target))
        notes = {**annotations_of(cp.kcp), REMEDIATION_IN_PROGRESS: json.dumps(record, separators=(",", ":"))}
        self.ctx.write(cp.kcp, metadata=with_metadata(cp.kcp, annotations=notes))
        return True, None

    def _check_retry_limits(self, cp: ControlPlane, target: Manifest) -> tuple[bool, int, float | None]:
        """(allowed, retry count of this remediation, when the limits could change)."""
        previous = annotations_of(target).get(REMEDIATION_FOR)
        if previous is None:
            return True, 0, None
        policy, data = RemediationPolicy.of(cp.kcp), json.loads(previous)
        last = moment(data["timestamp"])
        if last + policy.min_healthy_period <= cp.now:
            return True, 0, None
        count = int(data["retryCount"])
        if last + policy.retry_period > cp.now:
            message = (
                "KubeadmControlPlane can't remediate this machine because the operation already failed in the "
                f"latest {policy.retry_period}s (RetryPeriod)"
            )
            self._owner_remediated(target, "RemediationDeferred", message)
            return False, count, last + policy.retry_period - cp.now
        if policy.max_retry is not None and count >= policy.max_retry:
            message = (
                "KubeadmControlPlane can't remediate this machine because the operation already failed "
                f"{count} times (MaxRetry)"
            )
            self._owner_remediated(target, "CannotBeRemediated", message)
            return False, count, last + policy.min_healthy_period - cp.now
        return True, count + 1, None

    def _safe_to_remediate(self, cp: ControlPlane, target: Manifest) -> bool:
        """The checks that apply once the control plane is initialised (``remediation.go`` L226-312)."""
        if not cp.initialized:
            return True
        others = [m for m in cp.machines if m is not target]
        flagged = {name_of(m) for m in cp.to_remediate}
        if len(cp.machines) <= 1:
            message = "KubeadmControlPlane can't remediate if current replicas are less or equal to 1"
            return self._owner_remediated(target, "CannotBeRemediated", message)
        if any(not has_node_ref(m) and name_of(m) not in flagged for m in others):
            message = (
                "KubeadmControlPlane waiting for control plane Machine provisioning to complete before "
                "triggering remediation"
            )
            return self._owner_remediated(target, "RemediationDeferred", message)
        if cp.deleting:
            message = (
                "KubeadmControlPlane waiting for control plane Machine deletion to complete before "
                "triggering remediation"
            )
            return self._owner_remediated(target, "RemediationDeferred", message)
        if not cp.can_safely_remove_etcd_member(target):
            message = (
                "KubeadmControlPlane can't remediate this machine because this could result in etcd loosing quorum"
            )
            return self._owner_remediated(target, "CannotBeRemediated", message)
        return True

    def _owner_remediated(self, machine: Manifest, reason: str, message: str) -> bool:
        """Set ``OwnerRemediated=False`` with a reason on the Machine; returns False (remediation not done)."""
        machine = self._fresh(machine)
        wanted = [
            Cond("OwnerRemediated", FALSE, reason, message) if c["type"] == "OwnerRemediated" else c
            for c in conditions_of(machine)
        ]
        generation = machine["metadata"]["generation"]
        conditions = build(conditions_of(machine), wanted, generation, self.ctx.now())
        self.ctx.write_status(machine, {**machine["status"], "conditions": conditions})
        return False

    def _fresh(self, machine: Manifest) -> Manifest:
        found = self.ctx.cache.find(ObjectKey.of(machine))
        return found if found is not None else machine

    # watch mappers

    def _cluster_infrastructure_changed(self) -> Mapper:
        def mapper(cluster: Manifest) -> list[ObjectKey]:
            ready = infrastructure_provisioned(cluster)
            cluster_key = ObjectKey.of(cluster)
            if self._infrastructure.get(cluster_key) == ready:
                return []
            self._infrastructure[cluster_key] = ready
            ref = cluster["spec"].get("controlPlaneRef")
            if not ref or ref.get("kind") != "KubeadmControlPlane":
                return []
            return [ObjectKey(CONTROL_PLANE_GROUP, "KubeadmControlPlane", cluster_key.namespace, ref["name"])]

        return mapper
