"""Simulated MachinePools: the topology's ``workers.machinePools`` and a minimal MachinePool controller.

Topology side (:func:`reconcile_machine_pools`, called by :class:`fleetc.sim.topology.SimulatedTopologyReconciler`),
after ``exp/topology/desiredstate/desired_state.go`` (computeMachinePool) at CAPI v1.14: one MachinePool per entry,
named ``<cluster>-<name>-<random>``, labelled ``topology.cluster.x-k8s.io/pool-name``, with a bootstrap config
(``KubeadmConfig``) and an infrastructure machine pool (``DevMachinePool``) made once from the class's templates.
A pool is created, and moves to the topology version, only when the control plane is stable at that version
(as MachineDeployments are); the simulation does not rotate a pool's bootstrap config when its template changes.

Controller side (:class:`SimulatedMachinePoolReconciler`), after ``core/reconcilers/machinepool/`` at CAPI v1.14
without MachinePool Machines (``setReplicas``): the provider's group is simulated as instances by version that
change one per :data:`STEP` seconds (added up to ``spec.replicas``, removed down to it, then replaced old version
first). Status as CAPI v1.14 writes it: ``replicas``, ``readyReplicas`` and ``availableReplicas`` (the
instances), ``upToDateReplicas`` (= ``spec.replicas``: v1.14 cannot tell without MachinePool Machines),
``versions`` (from the Nodes' kubelets), ``phase``, ``initialization``, the v1beta1 conditions Ready,
BootstrapReady, InfrastructureReady, ReplicasReady under ``deprecated``, and of the v1beta2 conditions only
``Paused``: v1.14 has not implemented Available, RollingOut or Scaling for MachinePools, and its Cluster
conditions leave MachinePools out (they count only in ``status.workers``). Gates read the counters and
``versions`` (:mod:`fleetc.rollout.gate_completion`).
"""

from __future__ import annotations

from typing import Any

from fleetc.contract.objects import annotations_of, is_deleting, labels, ref_group
from fleetc.contract.timestamps import parse_timestamp
from fleetc.contract.vocabulary import (
    BOOTSTRAP_API,
    CAPI_API,
    CAPI_GROUP,
    MACHINE_POOL,
    TOPOLOGY_OWNED_LABEL,
    TOPOLOGY_POOL_LABEL,
)
from fleetc.core.keys import Manifest
from fleetc.runtime.manager import DONE, Request, Result, Watch
from fleetc.sim.api import owner_reference, stamp
from fleetc.sim.context import SimContext, with_metadata
from fleetc.sim.status import FALSE, Cond, build
from fleetc.sim.topology_current import Topology
from fleetc.sim.topology_current import template as class_template
from fleetc.sim.topology_desired import cloned_from, entry_replicas, owned_labels
from fleetc.sim.topology_plan import VersionPlan

STEP = 60.0
"""Seconds the simulated provider takes to add, remove or replace one instance of a pool."""
LAST_STEP = "sim.fleetc.io/last-step"
"""Annotation: when the simulated group last changed an instance (the pace of :data:`STEP`)."""


def _made_from(ctx: SimContext, scope: Topology, ref: Manifest, kind: str, prefix: str, owner: str) -> str:
    """An object made from a class template (its ``spec.template.spec``), as CAPI does for a MachinePool."""
    template = class_template(ctx.cache, ref, scope.cluster_class)
    assert template is not None
    group = ref_group(ref["apiVersion"])
    name = ctx.fresh_name((group, kind), scope.namespace, prefix)
    ctx.create(
        {
            "apiVersion": ref["apiVersion"] if kind != "KubeadmConfig" else BOOTSTRAP_API,
            "kind": kind,
            "metadata": {
                "name": name,
                "namespace": scope.namespace,
                "labels": owned_labels(scope.name, **{TOPOLOGY_POOL_LABEL: owner}),
                "annotations": cloned_from(template),
                "ownerReferences": [owner_reference(scope.cluster, controller=False)],
            },
            "spec": dict(template["spec"]["template"]["spec"]),
        }
    )
    return name


def _pool_spec(
    scope: Topology, entry: Manifest, existing: Manifest | None, refs: tuple[Manifest, Manifest]
) -> Manifest:
    spec: Manifest = {
        "clusterName": scope.name,
        "replicas": entry_replicas(entry, existing),
        "template": {
            "metadata": {"labels": owned_labels(scope.name, **{TOPOLOGY_POOL_LABEL: entry["name"]})},
            "spec": {"clusterName": scope.name, "bootstrap": {"configRef": refs[0]}, "infrastructureRef": refs[1]},
        },
    }
    if entry.get("failureDomains"):
        spec["failureDomains"] = list(entry["failureDomains"])
    return spec


def _create(ctx: SimContext, scope: Topology, entry: Manifest, pool_class: Manifest, version: str) -> None:
    prefix = f"{scope.name}-{entry['name']}"
    bootstrap_ref, infra_ref = pool_class["bootstrap"]["templateRef"], pool_class["infrastructure"]["templateRef"]
    infra_kind = infra_ref["kind"].removesuffix("Template")
    config = _made_from(ctx, scope, bootstrap_ref, "KubeadmConfig", prefix, entry["name"])
    infra = _made_from(ctx, scope, infra_ref, infra_kind, prefix, entry["name"])
    refs = (
        {"apiGroup": ref_group(BOOTSTRAP_API), "kind": "KubeadmConfig", "name": config},
        {"apiGroup": ref_group(infra_ref["apiVersion"]), "kind": infra_kind, "name": infra},
    )
    spec = _pool_spec(scope, entry, None, refs)
    spec["template"]["spec"]["version"] = version
    metadata: Manifest = {
        "name": ctx.fresh_name(MACHINE_POOL, scope.namespace, prefix),
        "namespace": scope.namespace,
        "labels": owned_labels(scope.name, **{TOPOLOGY_POOL_LABEL: entry["name"]}),
        "ownerReferences": [owner_reference(scope.cluster, controller=False)],
    }
    notes = entry.get("metadata", {}).get("annotations", {})
    if notes:
        metadata["annotations"] = dict(notes)
    ctx.create({"apiVersion": CAPI_API, "kind": "MachinePool", "metadata": metadata, "spec": spec})


def owned_pools(ctx: SimContext, namespace: str, cluster: str) -> dict[str, Manifest]:
    """The cluster's topology-owned MachinePools by topology name."""
    return {
        labels(p).get(TOPOLOGY_POOL_LABEL, ""): p
        for p in ctx.cache.of_cluster(MACHINE_POOL, namespace, cluster)
        if TOPOLOGY_OWNED_LABEL in labels(p)
    }


def reconcile_machine_pools(ctx: SimContext, scope: Topology, plan: VersionPlan) -> None:
    """Create, update and delete the MachinePools of ``spec.topology.workers.machinePools``."""
    classes = {c["class"]: c for c in scope.cluster_class["spec"].get("workers", {}).get("machinePools", [])}
    existing = owned_pools(ctx, scope.namespace, scope.name)
    entries = scope.topology.get("workers", {}).get("machinePools", [])
    for entry in entries:
        pool_class, current = classes.get(entry["class"]), existing.get(entry["name"])
        if pool_class is None:
            plan.problem = f"MachinePool class {entry['class']} not found in ClusterClass"
            continue
        if current is None:
            if plan.create_deployments:
                _create(ctx, scope, entry, pool_class, plan.target)
            continue
        template_spec = current["spec"]["template"]["spec"]
        refs = (template_spec["bootstrap"]["configRef"], template_spec["infrastructureRef"])
        spec = _pool_spec(scope, entry, current, refs)
        spec["template"]["spec"]["version"] = plan.target if plan.create_deployments else template_spec["version"]
        ctx.write(current, spec=spec)
    wanted = {e["name"] for e in entries}
    for name, pool in existing.items():
        if name not in wanted:
            ctx.delete(pool)


# --- the MachinePool controller ------------------------------------------------------------------------------------


def next_instances(instances: dict[str, int], replicas: int, version: str) -> dict[str, int]:
    """The group after one step: add one (at ``version``), remove one (an old one first), or replace an old one."""
    after = dict(instances)
    total = sum(after.values())
    old = sorted(v for v in after if v != version)
    if total < replicas:
        after[version] = after.get(version, 0) + 1
    elif total > replicas:
        victim = old[0] if old else version
        after[victim] -= 1
    elif old:
        after[old[0]] -= 1
        after[version] = after.get(version, 0) + 1
    return {v: n for v, n in after.items() if n > 0}


def _phase(total: int, replicas: int) -> str:
    if total < replicas:
        return "ScalingUp"
    if total > replicas:
        return "ScalingDown"
    return "Running"


def _v1beta1(previous: list[dict[str, Any]], total: int, replicas: int, now: float) -> list[dict[str, Any]]:
    ready = total == replicas
    wanted = {"Ready": ready, "BootstrapReady": True, "InfrastructureReady": True, "ReplicasReady": ready}
    by_type = {c["type"]: c for c in previous}
    result = []
    for condition_type, true in wanted.items():
        status = "True" if true else "False"
        old = by_type.get(condition_type)
        since = old["lastTransitionTime"] if old is not None and old["status"] == status else stamp(now)
        condition: dict[str, Any] = {"lastTransitionTime": since, "status": status, "type": condition_type}
        if not true:
            condition.update(reason="WaitingForReplicasReady", severity="Info")
        result.append(condition)
    return result


def pool_status(pool: Manifest, instances: dict[str, int], now: float) -> Manifest:
    """The status CAPI v1.14 writes for a MachinePool without MachinePool Machines."""
    previous = pool.get("status", {})
    replicas = pool["spec"].get("replicas", 1)
    total = sum(instances.values())
    generation = pool["metadata"].get("generation", 1)
    paused = Cond("Paused", FALSE, "NotPaused")
    status: Manifest = {
        "conditions": build(previous.get("conditions", []), [paused], generation, now),
        "deprecated": {"v1beta1": {"conditions": _v1beta1(_deprecated(previous), total, replicas, now)}},
        "initialization": {"bootstrapDataSecretCreated": True, "infrastructureProvisioned": True},
        "observedGeneration": generation,
        "phase": _phase(total, replicas),
        "replicas": total,
        "readyReplicas": total,
        "availableReplicas": total,
        "upToDateReplicas": replicas,
    }
    if instances:
        status["versions"] = [{"replicas": n, "version": v} for v, n in sorted(instances.items())]
    return status


def _deprecated(status: Manifest) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = status.get("deprecated", {}).get("v1beta1", {}).get("conditions", [])
    return found


class SimulatedMachinePoolReconciler:
    """Simulated CAPI MachinePool controller with a simulated provider group (no MachinePool Machines)."""

    name = "sim-machinepool"
    level = 1
    """After Machines, before the Cluster."""
    group = CAPI_GROUP
    kind = "MachinePool"

    def __init__(self, ctx: SimContext) -> None:
        self.ctx = ctx

    def watches(self) -> list[Watch]:
        """Only its own kind."""
        return []

    def reconcile(self, request: Request) -> Result:
        """One instance changes per :data:`STEP`; the status follows the instances."""
        pool = self.ctx.cache.find(request.key)
        if pool is None or is_deleting(pool):
            return DONE
        now = self.ctx.now()
        instances = {v["version"]: v["replicas"] for v in pool.get("status", {}).get("versions", [])}
        replicas, version = pool["spec"].get("replicas", 1), pool["spec"]["template"]["spec"]["version"]
        after = next_instances(instances, replicas, version)
        if after != instances:
            last = annotations_of(pool).get(LAST_STEP)
            changed = pool.get("status", {}).get("observedGeneration") != pool["metadata"].get("generation")
            wait = parse_timestamp(last) + STEP - now if last and not changed else 0.0
            if wait > 0:
                self.ctx.write_status(pool, pool_status(pool, instances, now))
                return Result(requeue_after=wait)
            if last is not None and not changed:  # a new spec only starts the clock: an instance takes STEP
                instances = after
            notes = {**annotations_of(pool), LAST_STEP: stamp(now)}
            self.ctx.write(pool, metadata=with_metadata(pool, annotations=notes))
            pool = self.ctx.cache.find(request.key) or pool
        self.ctx.write_status(pool, pool_status(pool, instances, now))
        done = next_instances(instances, replicas, version) == instances
        return DONE if done else Result(requeue_after=STEP)
