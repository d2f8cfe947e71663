"""The simulated MachineSet controller: keep ``spec.replicas`` Machines, remediate flagged ones, report status.

Follows ``core/reconcilers/machineset/machineset_controller.go``: syncReplicas creates the missing Machines
(named ``<machineset>-<random>``, L1225; labels from ``machineLabelsFromMachineSet`` L1338) once the preflight
checks pass, or deletes the surplus in CAPI's deletion order (deleting Machines still count as replicas until
gone); Machines a MachineHealthCheck flagged (``HealthCheckSucceeded=False`` + ``OwnerRemediated=False``) are
deleted and replaced by the current MachineSet only, newest first, within ``maxInFlight``
(reconcileUnhealthyMachines); the rules are in :mod:`fleetc.sim.machineset_rules`.
``machineset.cluster.x-k8s.io/disable-machine-create: "true"`` stops creation. Status follows
``machineset_controller_status.go`` (counters, ``versions``, ScalingUp — with the preflight checks that hold it —
ScalingDown, MachinesReady, MachinesUpToDate, Remediating).
"""

from __future__ import annotations

from typing import Any

from fleetc.contract.objects import annotations_of, is_deleting, labels, name_of
from fleetc.contract.vocabulary import (
    BOOTSTRAP_GROUP,
    CAPI_API,
    CAPI_GROUP,
    CLUSTER,
    DEPLOYMENT_NAME_LABEL,
    KCP,
    MACHINE,
    MACHINE_DEPLOYMENT,
    MACHINE_FINALIZER,
    MS_DISABLE_CREATE,
    SET_NAME_LABEL,
)
from fleetc.core.keys import Manifest
from fleetc.runtime.manager import DONE, Request, Result, Watch, owner_of
from fleetc.sim.api import SIM_INFRA_TEMPLATE, owner_reference
from fleetc.sim.context import ChangedView, SettledFilter, SettlingReconciler, SimContext
from fleetc.sim.in_place import SyncedTemplates, copy_to_machines
from fleetc.sim.machine import owner
from fleetc.sim.machines import (
    Counters,
    infrastructure_kind,
    oldest_first,
    owner_view,
    summary_of,
    versions,
)
from fleetc.sim.machineset_rules import PREFLIGHT_REQUEUE, deletion_order, preflight_messages, remediation_plan
from fleetc.sim.status import FALSE, TRUE, Cond, aggregate, build, conditions_of


def selector_text(selector: Manifest) -> str:
    """``matchLabels`` as ``k=v,k=v`` (the ``status.selector`` string)."""
    return ",".join(f"{k}={v}" for k, v in sorted(selector.get("matchLabels", {}).items()))


def scaling(current: int, desired: int, blocked: list[str] | None = None) -> list[Cond]:
    """``ScalingDown`` and ``ScalingUp`` from the current and desired number of Machines (and the preflight checks
    that block a scale-up, ``setScalingUpCondition``)."""
    down = Cond("ScalingDown", TRUE, "ScalingDown", f"Scaling down from {current} to {desired} replicas")
    because = " is blocked because:\n" + "\n".join(f"* {line}" for line in blocked) if blocked else ""
    up = Cond("ScalingUp", TRUE, "ScalingUp", f"Scaling up from {current} to {desired} replicas{because}")
    return [
        down if current > desired else Cond("ScalingDown", FALSE, "NotScalingDown"),
        up if current < desired else Cond("ScalingUp", FALSE, "NotScalingUp"),
    ]


def machines_conditions(machines: list[Manifest]) -> list[Cond]:
    """``MachinesReady`` and ``MachinesUpToDate`` aggregated from the Machines."""
    result = []
    summaries = [(name_of(m), summary_of(m)) for m in machines]
    for condition_type, source, good in (
        ("MachinesReady", "Ready", "Ready"),
        ("MachinesUpToDate", "UpToDate", "UpToDate"),
    ):
        issues = []
        for name, found_in in summaries:
            found = found_in.ready if source == "Ready" else found_in.up_to_date
            if found is not None and found["status"] != TRUE:
                issues.append((name, found["message"]))
        if not machines:
            result.append(Cond(condition_type, TRUE, "NoReplicas"))
        elif issues:
            reason = "NotReady" if source == "Ready" else "NotUpToDate"
            result.append(Cond(condition_type, FALSE, reason, aggregate("Machine", issues)))
        else:
            result.append(Cond(condition_type, TRUE, good))
    return result


def remediating(machines: list[Manifest]) -> Cond:
    """``Remediating`` from the Machines a MachineHealthCheck flagged."""
    issues = []
    for machine in machines:
        found = summary_of(machine)
        if found.flagged:
            owner = found.owner_remediated
            issues.append((name_of(machine), owner["message"] if owner else ""))
    if not issues:
        return Cond("Remediating", FALSE, "NotRemediating")
    return Cond("Remediating", TRUE, "Remediating", aggregate("Machine", issues))


class _Preflight:
    """The MachineSet preflight checks, run at most once per reconcile and only when something asks."""

    def __init__(self, ctx: SimContext, machine_set: Manifest) -> None:
        self.ctx, self.machine_set = ctx, machine_set
        self._found: list[str] | None = None
        self.blocking: list[str] = []
        """Messages of the checks that held back a scale-up this pass (for ``ScalingUp``)."""
        self.held = False

    def messages(self, action: str) -> list[str]:
        """Why ``action`` must wait (empty: it may go on)."""
        if self._found is None:
            namespace = self.machine_set["metadata"]["namespace"]
            cluster = self.ctx.cache.get(CLUSTER, namespace, self.machine_set["spec"]["clusterName"])
            ref = (cluster or {}).get("spec", {}).get("controlPlaneRef", {})
            control_plane = self.ctx.cache.get(KCP, namespace, ref["name"]) if ref.get("kind") == KCP[1] else None
            self._found = preflight_messages(cluster, control_plane, self.machine_set)
        if self._found:
            self.held = True
            if action == "scale up":
                self.blocking = self._found
        return self._found


class SimulatedMachineSetReconciler(SettlingReconciler):
    """Simulated CAPI MachineSet controller."""

    name = "sim-machineset"
    level = 1
    """After its Machines, before the MachineDeployment that summarises it."""
    group = CAPI_GROUP
    kind = "MachineSet"

    def __init__(self, ctx: SimContext) -> None:
        self.ctx = ctx
        self.gate = SettledFilter(ctx)
        self._synced = SyncedTemplates()

    def watches(self) -> list[Watch]:
        """Its Machines."""
        return [
            Watch(
                CAPI_GROUP, "Machine", self.gate.waking(ChangedView(owner_view, owner_of("MachineSet"), map_first=True))
            )
        ]

    def reconcile(self, request: Request) -> Result:
        """Remediate, sync replicas, report."""
        machine_set = self.ctx.cache.find(request.key)
        if self.gate.settled(request.key, machine_set) or machine_set is None or is_deleting(machine_set):
            return self.gate.rest(request.key)
        preflight = _Preflight(self.ctx, machine_set)
        machines = self._machines(machine_set)
        if copy_to_machines(self.ctx, self._synced, machine_set, machine_set["spec"]["template"]["spec"], machines):
            machines = self._machines(machine_set)
        writes = self.ctx.writes
        self._remediate(machine_set, machines, preflight)
        if self.ctx.writes != writes:  # read the Machines again only after a write
            machines, writes = self._machines(machine_set), self.ctx.writes
        self._sync_replicas(machine_set, machines, preflight)
        if self.ctx.writes != writes:
            machines = self._machines(machine_set)
        machine_set = self.ctx.cache.find(request.key)
        assert machine_set is not None
        self.ctx.write_status(machine_set, self._status(machine_set, machines, preflight.blocking))
        result = Result(requeue_after=PREFLIGHT_REQUEUE) if preflight.held else DONE
        return self.gate.settle(request.key, result)

    def _machines(self, machine_set: Manifest) -> list[Manifest]:
        namespace, name = machine_set["metadata"]["namespace"], name_of(machine_set)
        cluster = machine_set["spec"]["clusterName"]
        return oldest_first(self.ctx.cache.labelled(MACHINE, namespace, cluster, SET_NAME_LABEL, name))

    def _remediate(self, machine_set: Manifest, machines: list[Manifest], preflight: _Preflight) -> None:
        deployment_name = owner(machine_set, "MachineDeployment")
        namespace = machine_set["metadata"]["namespace"]
        deployment = self.ctx.cache.get(MACHINE_DEPLOYMENT, namespace, deployment_name) if deployment_name else None
        plan = remediation_plan(machine_set, deployment, machines)
        for machine, reason, message in plan.waiting:
            self._owner_remediated(machine, reason, message)
        if plan.delete and preflight.messages("remediate"):
            lines = "\n".join(f"* {line}" for line in preflight.messages("remediate"))
            for machine in plan.delete:
                self._owner_remediated(machine, "RemediationDeferred", lines)
            return
        for machine in plan.delete:
            self._owner_remediated(machine, "MachineDeleting", "Machine is deleting")
            self.ctx.delete(machine)

    def _owner_remediated(self, machine: Manifest, reason: str, message: str) -> None:
        """Set ``OwnerRemediated=False`` with a reason on a flagged Machine."""
        wanted = [
            Cond("OwnerRemediated", FALSE, reason, message) if c["type"] == "OwnerRemediated" else c
            for c in conditions_of(machine)
        ]
        conditions = build(conditions_of(machine), wanted, machine["metadata"]["generation"], self.ctx.now())
        self.ctx.write_status(machine, {**machine["status"], "conditions": conditions})

    def _sync_replicas(self, machine_set: Manifest, machines: list[Manifest], preflight: _Preflight) -> None:
        desired: int = machine_set["spec"].get("replicas", 1)
        if len(machines) < desired and annotations_of(machine_set).get(MS_DISABLE_CREATE) != "true":
            if preflight.messages("scale up"):
                return
            for _ in range(desired - len(machines)):
                self._create_machine(machine_set)
        elif len(machines) > desired:
            ranked = deletion_order(machine_set, machines, self.ctx.now())
            for machine in ranked[: len(machines) - desired]:
                if not is_deleting(machine):
                    self.ctx.delete(machine)

    def _create_machine(self, machine_set: Manifest) -> None:
        namespace, set_name = machine_set["metadata"]["namespace"], name_of(machine_set)
        name = self.ctx.fresh_name((CAPI_GROUP, "Machine"), namespace, set_name)
        template = machine_set["spec"]["template"]
        spec = template["spec"]
        machine_labels = {
            **template.get("metadata", {}).get("labels", {}),
            SET_NAME_LABEL: set_name,
            DEPLOYMENT_NAME_LABEL: labels(machine_set).get(DEPLOYMENT_NAME_LABEL, ""),
        }
        infra_ref = spec["infrastructureRef"]
        machine_spec: dict[str, Any] = {
            "bootstrap": {"configRef": {"apiGroup": BOOTSTRAP_GROUP, "kind": "KubeadmConfig", "name": name}},
            "clusterName": spec["clusterName"],
            "infrastructureRef": {
                "apiGroup": infra_ref["apiGroup"],
                "kind": infrastructure_kind(infra_ref),
                "name": name,
            },
            "version": spec.get("version", ""),
        }
        for optional in ("failureDomain", "minReadySeconds", "deletion"):
            if optional in spec:
                machine_spec[optional] = spec[optional]
        notes = {**template.get("metadata", {}).get("annotations", {}), SIM_INFRA_TEMPLATE: infra_ref["name"]}
        self.ctx.create(
            {
                "apiVersion": CAPI_API,
                "kind": "Machine",
                "metadata": {
                    "name": name,
                    "namespace": namespace,
                    "labels": dict(sorted(machine_labels.items())),
                    "annotations": dict(sorted(notes.items())),
                    "ownerReferences": [owner_reference(machine_set)],
                    "finalizers": [MACHINE_FINALIZER],
                },
                "spec": machine_spec,
            }
        )

    def _status(self, machine_set: Manifest, machines: list[Manifest], blocking: list[str]) -> dict[str, Any]:
        counters = Counters.of(machines)
        generation = machine_set["metadata"]["generation"]
        wanted = [
            remediating(machines),
            *scaling(len(machines), machine_set["spec"].get("replicas", 1), blocking),
            *machines_conditions(machines),
            Cond("Paused", FALSE, "NotPaused"),
            Cond("Deleting", FALSE, "NotDeleting"),
        ]
        status: dict[str, Any] = {
            "availableReplicas": counters.available,
            "conditions": build(conditions_of(machine_set), wanted, generation, self.ctx.now()),
            "observedGeneration": generation,
            "readyReplicas": counters.ready,
            "replicas": counters.replicas,
            "selector": selector_text(machine_set["spec"]["selector"]),
            "upToDateReplicas": counters.up_to_date,
        }
        found = versions(machines)
        if found:
            status["versions"] = found
        return status
