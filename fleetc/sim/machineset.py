"""The simulated MachineSet controller: keep ``spec.replicas`` Machines, remediate flagged ones, report status.

Follows ``core/reconcilers/machineset/machineset_controller.go``: syncReplicas creates the missing Machines
(named ``<machineset>-<random>``, L1225; labels from ``machineLabelsFromMachineSet`` L1338) or deletes the
surplus, deleting Machines first (they still count as replicas until gone); Machines a MachineHealthCheck
flagged (``HealthCheckSucceeded=False`` + ``OwnerRemediated=False``) are deleted and replaced
(reconcileUnhealthyMachines); ``machineset.cluster.x-k8s.io/disable-machine-create: "true"`` stops creation.
Status follows ``machineset_controller_status.go`` (counters, ``versions``, ScalingUp/ScalingDown, MachinesReady,
MachinesUpToDate, Remediating). Deletion order: deleting, then not Ready, then oldest (CAPI's default is
``Random``, with the same priorities before the random pick).
"""

from __future__ import annotations

from typing import Any

from fleetc.contract.objects import annotations_of, is_deleting, labels, name_of
from fleetc.contract.vocabulary import (
    BOOTSTRAP_GROUP,
    CAPI_API,
    CAPI_GROUP,
    DEPLOYMENT_NAME_LABEL,
    MACHINE,
    MACHINE_FINALIZER,
    MS_DISABLE_CREATE,
    SET_NAME_LABEL,
)
from fleetc.core.keys import Manifest
from fleetc.runtime.manager import DONE, Request, Result, Watch, owner_of
from fleetc.sim.api import SIM_INFRA_TEMPLATE, owner_reference
from fleetc.sim.context import ChangedView, SettledFilter, SimContext
from fleetc.sim.machines import (
    Counters,
    infrastructure_kind,
    is_true,
    needs_remediation,
    oldest_first,
    owner_view,
    versions,
)
from fleetc.sim.status import FALSE, TRUE, Cond, aggregate, build, conditions_of, find


def selector_text(selector: Manifest) -> str:
    """``matchLabels`` as ``k=v,k=v`` (the ``status.selector`` string)."""
    return ",".join(f"{k}={v}" for k, v in sorted(selector.get("matchLabels", {}).items()))


def scaling(current: int, desired: int) -> list[Cond]:
    """``ScalingDown`` and ``ScalingUp`` from the current and desired number of Machines."""
    down = Cond("ScalingDown", TRUE, "ScalingDown", f"Scaling down from {current} to {desired} replicas")
    up = Cond("ScalingUp", TRUE, "ScalingUp", f"Scaling up from {current} to {desired} replicas")
    return [
        down if current > desired else Cond("ScalingDown", FALSE, "NotScalingDown"),
        up if current < desired else Cond("ScalingUp", FALSE, "NotScalingUp"),
    ]


def machines_conditions(machines: list[Manifest]) -> list[Cond]:
    """``MachinesReady`` and ``MachinesUpToDate`` aggregated from the Machines."""
    result = []
    for condition_type, source, good in (
        ("MachinesReady", "Ready", "Ready"),
        ("MachinesUpToDate", "UpToDate", "UpToDate"),
    ):
        issues = []
        for machine in machines:
            found = find(conditions_of(machine), source)
            if found is not None and found["status"] != TRUE:
                issues.append((name_of(machine), found["message"]))
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
        if needs_remediation(machine):
            owner = find(conditions_of(machine), "OwnerRemediated")
            issues.append((name_of(machine), owner["message"] if owner else ""))
    if not issues:
        return Cond("Remediating", FALSE, "NotRemediating")
    return Cond("Remediating", TRUE, "Remediating", aggregate("Machine", issues))


class SimulatedMachineSetReconciler:
    """Simulated CAPI MachineSet controller."""

    name = "sim-machineset"
    group = CAPI_GROUP
    kind = "MachineSet"

    def __init__(self, ctx: SimContext) -> None:
        self.ctx = ctx
        self.gate = SettledFilter(ctx.cache)

    def watches(self) -> list[Watch]:
        """Its Machines."""
        return [Watch(CAPI_GROUP, "Machine", self.gate.waking(ChangedView(owner_view, owner_of("MachineSet"))))]

    def reconcile(self, request: Request) -> Result:
        """Remediate, sync replicas, report."""
        machine_set = self.ctx.cache.find(request.key)
        if self.gate.settled(request.key, machine_set) or machine_set is None or is_deleting(machine_set):
            return DONE
        self._remediate(self._machines(machine_set))
        self._sync_replicas(machine_set, self._machines(machine_set))
        machine_set = self.ctx.cache.find(request.key)
        assert machine_set is not None
        self.ctx.write_status(machine_set, self._status(machine_set, self._machines(machine_set)))
        return self.gate.settle(request.key, DONE)

    def _machines(self, machine_set: Manifest) -> list[Manifest]:
        namespace, name = machine_set["metadata"]["namespace"], name_of(machine_set)
        machines = self.ctx.cache.of_cluster(MACHINE, namespace, machine_set["spec"]["clusterName"])
        return oldest_first(m for m in machines if labels(m).get(SET_NAME_LABEL) == name)

    def _remediate(self, machines: list[Manifest]) -> None:
        for machine in machines:
            if needs_remediation(machine) and not is_deleting(machine):
                conditions = build(
                    conditions_of(machine),
                    [
                        Cond("OwnerRemediated", FALSE, "MachineDeleting", "Machine is deleting")
                        if c["type"] == "OwnerRemediated"
                        else c
                        for c in conditions_of(machine)
                    ],
                    machine["metadata"]["generation"],
                    self.ctx.now(),
                )
                self.ctx.write_status(machine, {**machine["status"], "conditions": conditions})
                self.ctx.delete(machine)

    def _sync_replicas(self, machine_set: Manifest, machines: list[Manifest]) -> None:
        desired: int = machine_set["spec"].get("replicas", 1)
        if len(machines) < desired and annotations_of(machine_set).get(MS_DISABLE_CREATE) != "true":
            for _ in range(desired - len(machines)):
                self._create_machine(machine_set)
        elif len(machines) > desired:
            order = {name_of(m): index for index, m in enumerate(machines)}
            ranked = sorted(machines, key=lambda m: (not is_deleting(m), is_true(m, "Ready"), order[name_of(m)]))
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

    def _status(self, machine_set: Manifest, machines: list[Manifest]) -> dict[str, Any]:
        counters = Counters.of(machines)
        generation = machine_set["metadata"]["generation"]
        wanted = [
            remediating(machines),
            *scaling(len(machines), machine_set["spec"].get("replicas", 1)),
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
