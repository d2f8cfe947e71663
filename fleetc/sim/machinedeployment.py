"""The simulated MachineDeployment controller: MachineSets per template revision and the rolling update between them.

Follows ``core/reconcilers/machinedeployment/`` at CAPI v1.14: the MachineSet whose template matches the
MachineDeployment's is the new one, created as ``<md>-<random>`` with a ``machine-template-hash`` label and the
next ``revision`` (``machinedeployment_sync.go`` L102, ``machinedeployment_rollout_planner.go`` L217-244);
the rolling update keeps at most ``replicas + maxSurge`` Machines and at least ``replicas - maxUnavailable``
available (defaults 1 and 0; percentages round up and down), scaling the new MachineSet up and the old ones
down, oldest first (``rollingUpdate``, reconcileNewMachineSet / reconcileOldMachineSets); old MachineSets scaled
to zero are deleted (cleanupDeployment, ``machinedeployment_sync.go`` L312). There is no progress deadline.
Status follows ``machinedeployment_status.go`` L102-310 (counters over all its Machines, ``versions``,
Available, RollingOut, ScalingUp/ScalingDown, MachinesReady, MachinesUpToDate, Remediating, phase).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

from fleetc.contract.objects import annotations_of, is_deleting, labels, name_of
from fleetc.contract.vocabulary import (
    CAPI_API,
    CAPI_GROUP,
    CLUSTER_NAME_LABEL,
    DEPLOYMENT_NAME_LABEL,
    MACHINE,
    MACHINE_SET,
    MD_DESIRED_REPLICAS,
    MD_MAX_REPLICAS,
    MD_REVISION,
    MS_DISABLE_CREATE,
    SET_NAME_LABEL,
    TEMPLATE_HASH_LABEL,
)
from fleetc.core.keys import Manifest
from fleetc.runtime.manager import DONE, Request, Result, Watch, owner_of
from fleetc.sim.api import content_hash, owner_reference
from fleetc.sim.context import SettledFilter, SettlingReconciler, SimContext, with_metadata
from fleetc.sim.in_place import SyncedTemplates, in_place_changed, rollout_part, with_in_place
from fleetc.sim.machines import Counters, bullets, template_outdated_reasons, versions
from fleetc.sim.machineset import machines_conditions, remediating, scaling, selector_text
from fleetc.sim.rotation import rotation_due
from fleetc.sim.status import FALSE, TRUE, Cond, build, conditions_of


def amount(value: int | str, total: int, *, round_up: bool) -> int:
    """An int-or-percent of ``total``."""
    if isinstance(value, int):
        return value
    percent = int(value.rstrip("%")) * total / 100
    return math.ceil(percent) if round_up else math.floor(percent)


class Strategy(NamedTuple):
    """The rolling-update parameters of a MachineDeployment."""

    replicas: int
    max_surge: int
    max_unavailable: int

    @classmethod
    def of(cls, deployment: Manifest) -> Strategy:
        """``spec.replicas`` and ``spec.rollout.strategy.rollingUpdate`` with CAPI's defaults."""
        replicas: int = deployment["spec"].get("replicas", 1)
        rolling = deployment["spec"].get("rollout", {}).get("strategy", {}).get("rollingUpdate", {})
        surge = amount(rolling.get("maxSurge", 1), replicas, round_up=True)
        unavailable = amount(rolling.get("maxUnavailable", 0), replicas, round_up=False)
        if surge == 0 and unavailable == 0:
            surge = 1
        return cls(replicas, surge, unavailable)


def template_matches(machine_set: Manifest, deployment: Manifest, now: float | None = None) -> bool:
    """The MachineSet runs the MachineDeployment's current template (ignoring the template-hash label); with
    ``now``, it was also not created before a ``rollout.after`` that has passed (machine rotation)."""
    if now is not None and rotation_due(machine_set, deployment, now):
        return False
    have, want = machine_set["spec"]["template"], deployment["spec"]["template"]
    if have["spec"] != want["spec"] and rollout_part(have["spec"]) != rollout_part(want["spec"]):
        return False  # fields that change in place (:mod:`fleetc.sim.in_place`) roll out no Machine
    have_labels = {k: v for k, v in have.get("metadata", {}).get("labels", {}).items() if k != TEMPLATE_HASH_LABEL}
    wanted: dict[str, str] = want.get("metadata", {}).get("labels", {})
    return have_labels == wanted


def revision(obj: Manifest) -> int:
    """The ``machinedeployment.clusters.x-k8s.io/revision`` annotation."""
    return int(annotations_of(obj).get(MD_REVISION, "0"))


class SimulatedMachineDeploymentReconciler(SettlingReconciler):
    """Simulated CAPI MachineDeployment controller."""

    name = "sim-machinedeployment"
    level = 2
    """After its MachineSets."""
    group = CAPI_GROUP
    kind = "MachineDeployment"

    def __init__(self, ctx: SimContext) -> None:
        self.ctx = ctx
        self.gate = SettledFilter(ctx)
        self._synced = SyncedTemplates()

    def watches(self) -> list[Watch]:
        """Its MachineSets."""
        return [
            Watch(
                CAPI_GROUP,
                "MachineSet",
                self.gate.waking(owner_of("MachineDeployment")),
            )
        ]

    def reconcile(self, request: Request) -> Result:
        """Ensure the new MachineSet, roll, clean up, report."""
        deployment = self.ctx.cache.find(request.key)
        if self.gate.settled(request.key, deployment) or deployment is None or is_deleting(deployment):
            return self.gate.rest(request.key)
        sets = self._machine_sets(deployment)
        if self._sync_in_place(deployment, sets):
            sets = self._machine_sets(deployment)
        new = next((s for s in sets if template_matches(s, deployment, self.ctx.now())), None)
        writes = self.ctx.writes
        if new is None:
            self._create_machine_set(deployment, sets)
        else:
            self._rolling_update(deployment, new, [s for s in sets if s is not new])
        if self.ctx.writes != writes:  # the MachineSets changed: read them again
            deployment = self.ctx.cache.find(request.key)
            assert deployment is not None
            sets = self._machine_sets(deployment)
            new = next((s for s in sets if template_matches(s, deployment, self.ctx.now())), None)
        self._record_revision(deployment, new)
        deployment = self.ctx.cache.find(request.key)
        assert deployment is not None
        self.ctx.write_status(deployment, self._status(deployment, sets))
        return self.gate.settle(request.key, DONE)

    # current state

    def _machine_sets(self, deployment: Manifest) -> list[Manifest]:
        namespace, name = deployment["metadata"]["namespace"], name_of(deployment)
        found = self.ctx.cache.labelled(
            MACHINE_SET, namespace, deployment["spec"]["clusterName"], DEPLOYMENT_NAME_LABEL, name
        )
        return sorted(found, key=lambda s: (revision(s), name_of(s)))

    def _machines(self, deployment: Manifest) -> list[Manifest]:
        namespace, name = deployment["metadata"]["namespace"], name_of(deployment)
        cluster = deployment["spec"]["clusterName"]
        return list(self.ctx.cache.labelled(MACHINE, namespace, cluster, DEPLOYMENT_NAME_LABEL, name))

    # reconcile state

    def _sync_in_place(self, deployment: Manifest, sets: list[Manifest]) -> bool:
        """Copy the template fields that change in place into every MachineSet, old ones too; True when it wrote."""
        wanted = deployment["spec"]["template"]["spec"]
        if self._synced.current(deployment, wanted):
            return False
        wrote = False
        for machine_set in sets:
            template = machine_set["spec"]["template"]
            if template["spec"] is not wanted and in_place_changed(template["spec"], wanted):
                synced = {**template, "spec": with_in_place(template["spec"], wanted)}
                wrote |= self.ctx.write(machine_set, spec={**machine_set["spec"], "template": synced})
        self._synced.mark(deployment, wanted)
        return wrote

    def _create_machine_set(self, deployment: Manifest, old: list[Manifest]) -> None:
        strategy = Strategy.of(deployment)
        current = sum(s["spec"].get("replicas", 0) for s in old)
        replicas = max(0, min(strategy.replicas, strategy.replicas + strategy.max_surge - current))
        namespace, md_name = deployment["metadata"]["namespace"], name_of(deployment)
        name = self.ctx.fresh_name(MACHINE_SET, namespace, md_name)
        suffix = name.rsplit("-", 1)[1]
        template_hash = f"{int(content_hash(deployment['spec']['template']), 16) % 10**10}-{suffix}"
        template = deployment["spec"]["template"]
        template_labels = {**template.get("metadata", {}).get("labels", {}), TEMPLATE_HASH_LABEL: template_hash}
        set_labels = {**template_labels, DEPLOYMENT_NAME_LABEL: md_name}
        set_labels[CLUSTER_NAME_LABEL] = deployment["spec"]["clusterName"]
        selector = {**deployment["spec"]["selector"].get("matchLabels", {}), TEMPLATE_HASH_LABEL: template_hash}
        self.ctx.create(
            {
                "apiVersion": CAPI_API,
                "kind": "MachineSet",
                "metadata": {
                    "name": name,
                    "namespace": namespace,
                    "labels": dict(sorted(set_labels.items())),
                    "annotations": {
                        **self._replica_annotations(strategy),
                        MD_REVISION: str(max((revision(s) for s in old), default=0) + 1),
                        MS_DISABLE_CREATE: "false",
                    },
                    "ownerReferences": [owner_reference(deployment)],
                },
                "spec": {
                    **({"deletion": deployment["spec"]["deletion"]} if "deletion" in deployment["spec"] else {}),
                    "clusterName": deployment["spec"]["clusterName"],
                    "replicas": replicas,
                    "selector": {"matchLabels": dict(sorted(selector.items()))},
                    "template": {
                        "metadata": {**template.get("metadata", {}), "labels": dict(sorted(template_labels.items()))},
                        "spec": template["spec"],
                    },
                },
            }
        )

    def _rolling_update(self, deployment: Manifest, new: Manifest, old: list[Manifest]) -> None:
        strategy = Strategy.of(deployment)
        current = sum(s["spec"].get("replicas", 0) for s in (new, *old))
        new_replicas = new["spec"].get("replicas", 0)
        if new_replicas > strategy.replicas:
            self._scale(new, strategy.replicas, strategy)
        elif new_replicas < strategy.replicas:
            room = strategy.replicas + strategy.max_surge - current
            if room > 0:
                self._scale(new, new_replicas + min(room, strategy.replicas - new_replicas), strategy)
        else:
            self._scale(new, new_replicas, strategy)
        self._scale_down_old(strategy, self._refresh(new), old)
        for machine_set in old:
            fresh = self._refresh(machine_set)
            if fresh["spec"].get("replicas", 0) == 0 and fresh.get("status", {}).get("replicas", 0) == 0:
                self.ctx.delete(fresh)

    def _scale_down_old(self, strategy: Strategy, new: Manifest, old: list[Manifest]) -> None:
        total = sum(s["spec"].get("replicas", 0) for s in (new, *old))
        new_unavailable = new["spec"].get("replicas", 0) - new.get("status", {}).get("availableReplicas", 0)
        budget = total - (strategy.replicas - strategy.max_unavailable) - max(new_unavailable, 0)
        for machine_set in old:
            replicas = machine_set["spec"].get("replicas", 0)
            if budget <= 0 or replicas == 0:
                continue
            step = min(budget, replicas)
            self._scale(machine_set, replicas - step, strategy)
            budget -= step

    def _scale(self, machine_set: Manifest, replicas: int, strategy: Strategy) -> None:
        notes = {**annotations_of(machine_set), **self._replica_annotations(strategy)}
        metadata = with_metadata(machine_set, annotations=notes)
        self.ctx.write(machine_set, metadata=metadata, spec={**machine_set["spec"], "replicas": replicas})

    def _refresh(self, obj: Manifest) -> Manifest:
        found = self.ctx.cache.get((CAPI_GROUP, obj["kind"]), obj["metadata"]["namespace"], name_of(obj))
        return found if found is not None else obj

    def _replica_annotations(self, strategy: Strategy) -> dict[str, str]:
        return {
            MD_DESIRED_REPLICAS: str(strategy.replicas),
            MD_MAX_REPLICAS: str(strategy.replicas + strategy.max_surge),
        }

    def _record_revision(self, deployment: Manifest, current: Manifest | None) -> None:
        if current is not None and annotations_of(deployment).get(MD_REVISION) != str(revision(current)):
            notes = {**annotations_of(deployment), MD_REVISION: str(revision(current))}
            self.ctx.write(deployment, metadata=with_metadata(deployment, annotations=notes))

    # status

    def _status(self, deployment: Manifest, sets: list[Manifest]) -> dict[str, Any]:
        machines = self._machines(deployment)
        counters = Counters.of(machines)
        strategy = Strategy.of(deployment)
        generation = deployment["metadata"]["generation"]
        wanted = [
            self._available(counters, strategy),
            self._rolling_out(deployment, machines, sets),
            remediating(machines),
            *scaling(len(machines), strategy.replicas),
            *machines_conditions(machines),
            Cond("Paused", FALSE, "NotPaused"),
            Cond("Deleting", FALSE, "NotDeleting"),
        ]
        phase = "Running"
        if len(machines) > strategy.replicas:
            phase = "ScalingDown"
        elif len(machines) < strategy.replicas:
            phase = "ScalingUp"
        status: dict[str, Any] = {
            "availableReplicas": counters.available,
            "conditions": build(conditions_of(deployment), wanted, generation, self.ctx.now()),
            "observedGeneration": generation,
            "phase": phase,
            "readyReplicas": counters.ready,
            "replicas": counters.replicas,
            "selector": selector_text(deployment["spec"]["selector"]),
            "upToDateReplicas": counters.up_to_date,
        }
        found = versions(machines)
        if found:
            status["versions"] = found
        return status

    def _available(self, counters: Counters, strategy: Strategy) -> Cond:
        needed = max(strategy.replicas - strategy.max_unavailable, 0)
        if counters.available >= needed:
            return Cond("Available", TRUE, "Available")
        message = (
            f"{counters.available} available replicas, at least {needed} required "
            f"(spec.strategy.rollout.maxUnavailable is {strategy.max_unavailable}, "
            f"spec.replicas is {strategy.replicas})"
        )
        return Cond("Available", FALSE, "NotAvailable", message)

    def _rolling_out(self, deployment: Manifest, machines: list[Manifest], sets: list[Manifest]) -> Cond:
        wanted = deployment["spec"]["template"]
        outdated = {name_of(s): template_outdated_reasons(s["spec"]["template"], wanted) for s in sets}
        reasons: list[str] = []
        count = 0
        for machine in machines:
            found = outdated.get(labels(machine).get(SET_NAME_LABEL, ""))
            if found:
                count += 1
                reasons += [r for r in found if r not in reasons]
        if not count:
            return Cond("RollingOut", FALSE, "NotRollingOut")
        return Cond(
            "RollingOut", TRUE, "RollingOut", f"Rolling out {count} not up-to-date replicas\n{bullets(reasons)}"
        )
