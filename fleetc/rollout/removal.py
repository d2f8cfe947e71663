"""Clusters that left the spec, in a rollout: orphaned (let go of) or decommissioned (deleted), each in its wave.

The policy (docs/spec.md, "Removing a cluster"), the same for ``fleetc diff``/``plan``, ``fleetc apply`` on either
store and the Flux output:

- a live CAPI Cluster of the fleet (label ``fleetc.io/fleet``) that the submitted revision no longer has is
  **orphaned**: left running, no longer managed. The rollout lets go of it in its wave: a ``ClusterOrphaned`` event
  in the timeline, and the fleet label is taken off the live Cluster so later rollouts do not report it again;
- unless the live Cluster carries ``fleetc.io/decommission: "true"`` (its spec entry had ``decommission: true``
  when it was last applied): then it is **decommissioned**. The rollout deletes the CAPI Cluster in its wave
  (``ClusterDeleting`` event; CAPI deletes its machines, then the Cluster) and the cluster succeeds once the
  Cluster is gone. Only with ``allow_delete`` (``--allow-delete``): without it :func:`check` refuses the whole
  submission before anything is written, naming the clusters and how to proceed.

The mark is read on the live object, not the spec, because that is what Flux does too (it prunes only objects whose
live ``kustomize.toolkit.fluxcd.io/prune`` is not ``disabled``): marking and removing are two applied revisions on
every path. A removed cluster goes in the wave it was in, or the last wave when that wave is gone
(:func:`fleetc.plan.rollout_order.removal_wave`, as ``fleetc plan`` shows it). Class revisions no cluster uses any
more are never deleted (CAPI refuses to delete a ClusterClass a Cluster uses; an unused one costs nothing).

Each removal is a ClusterRollout with ``spec.action`` ``Delete`` or ``Orphan`` (the stored objects name only the
Cluster), so it gets the wave's concurrency, timeline and resumability like any other cluster.
Hooks: :func:`fleetc.rollout.control.submit` calls :func:`removals`, :func:`check` and :func:`with_removals`;
:mod:`fleetc.rollout.reconcile_clusters` hands removal entries to :func:`start` and :func:`observe`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from fleetc.contract import topology
from fleetc.contract.objects import labels
from fleetc.contract.vocabulary import CAPI_API, CAPI_GROUP
from fleetc.core.errors import DeletionNotAllowedError
from fleetc.core.keys import Manifest
from fleetc.plan.rollout_order import removal_wave
from fleetc.render.names import DECOMMISSION_ANNOTATION, FLEET_LABEL, WAVE_LABEL
from fleetc.rollout.desired import ClusterPlan, RolloutPlan
from fleetc.rollout.entries import ClusterEntry
from fleetc.rollout.model import CLUSTER_ROLLOUT, GROUP, ROLLOUT_LABEL, ClusterState
from fleetc.rollout.scope import Scope
from fleetc.runtime.store import Store

DELETE = "Delete"
ORPHAN = "Orphan"
POLL_SECONDS = 10.0
"""How often a cluster being deleted is looked at again (in the informer cache: no API request)."""


@dataclass(frozen=True)
class Removal:
    """A cluster that left the spec, and what the rollout does with it."""

    name: str
    namespace: str
    wave: str | None
    decommission: bool
    version: str
    class_ref: str | None
    machines: str
    """``3 control-plane and 5 worker``: what a deletion takes down (read from the live Cluster)."""

    @property
    def action(self) -> str:
        """``Delete`` (decommissioned) or ``Orphan``."""
        return DELETE if self.decommission else ORPHAN


def _of_cluster(cluster: Manifest) -> Removal:
    metadata = cluster["metadata"]
    ref = topology.class_ref(cluster)
    return Removal(
        name=metadata["name"],
        namespace=metadata.get("namespace", ""),
        wave=labels(cluster).get(WAVE_LABEL),
        decommission=(metadata.get("annotations") or {}).get(DECOMMISSION_ANNOTATION) == "true",
        version=topology.version(cluster) or "",
        class_ref=ref.name if ref else None,
        machines=f"{topology.control_plane_replicas(cluster):,} control-plane and {topology.worker_machines(cluster)} "
        "worker",
    )


def _of_entry(entry: ClusterEntry) -> Removal:
    return Removal(
        name=entry.name,
        namespace=entry.namespace,
        wave=entry.wave,
        decommission=entry.spec.get("action") == DELETE,
        version=entry.version,
        class_ref=entry.class_ref,
        machines=str(entry.spec.get("machines", "")),
    )


def removals(store: Store, plan: RolloutPlan, live_clusters: Sequence[Manifest] | None = None) -> tuple[Removal, ...]:
    """The fleet's live Clusters the plan no longer has, and the removals of this revision already submitted
    (``live_clusters``: the fleet's labelled Clusters, when ``store`` does not hold them).

    Already submitted removals are kept (a resumed ``apply`` of the same revision must not lose a deletion in
    progress, or the record of one done), by name.
    """
    wanted = {(c.namespace, c.name) for c in plan.clusters}
    found: dict[tuple[str, str], Removal] = {}
    for entry in store.list(GROUP, CLUSTER_ROLLOUT, plan.namespace, labels={ROLLOUT_LABEL: plan.fleet}):
        view = ClusterEntry(entry)
        if view.spec.get("action") and view.spec["revision"] == plan.revision:
            found[(view.namespace, view.name)] = _of_entry(view)
    # Only the namespaces this fleet's rollout manages: a fleet is (namespace, name), and another fleet of the same
    # name elsewhere on the management cluster is not this one's to orphan or delete.
    namespaces = {plan.namespace, *(c.namespace for c in plan.clusters)}
    if live_clusters is None:
        live_clusters = store.list(CAPI_GROUP, "Cluster", labels={FLEET_LABEL: plan.fleet})
    for cluster in live_clusters:
        if cluster["metadata"].get("namespace", "") not in namespaces:
            continue
        removal = _of_cluster(cluster)
        where = (removal.namespace, removal.name)
        if where not in wanted and where not in found:
            found[where] = removal
    return tuple(found[k] for k in sorted(found))


def check(removed: Iterable[Removal], *, allow_delete: bool) -> None:
    """Refuse (:class:`DeletionNotAllowedError`) to delete decommissioned clusters unless ``allow_delete``."""
    doomed = [r for r in removed if r.decommission]
    if not doomed or allow_delete:
        return
    names = ", ".join(f"{r.namespace}/{r.name} ({r.machines} machines)" for r in doomed)
    raise DeletionNotAllowedError(
        f"this revision decommissions {len(doomed)} cluster(s): their CAPI Clusters would be deleted with every "
        f"machine: {names}. Nothing was applied. To delete them, run again with --allow-delete; to keep them, put "
        "their entries back (and drop decommission: true to keep managing them)"
    )


def with_removals(plan: RolloutPlan, removed: Sequence[Removal]) -> RolloutPlan:
    """The plan with a ClusterPlan per removal, after the clusters of its wave (wave sizes grown to match)."""
    if not removed:
        return plan
    names = [w.name for w in plan.waves]
    extra: list[ClusterPlan] = []
    grown: dict[str, int] = {}
    for removal in removed:
        wave = removal_wave(removal.wave, names)
        if wave is None:
            raise DeletionNotAllowedError(f"cluster {removal.name} left the spec but the fleet has no wave to do it in")
        order = sum(1 for c in plan.clusters if c.wave == wave) + grown.get(wave, 0)
        grown[wave] = grown.get(wave, 0) + 1
        extra.append(_cluster_plan(removal, wave, order))
    waves = tuple(w.model_copy(update={"size": w.size + grown.get(w.name, 0)}) for w in plan.waves)
    return dataclasses.replace(plan, waves=waves, clusters=(*plan.clusters, *extra))


def _cluster_plan(removal: Removal, wave: str, order: int) -> ClusterPlan:
    identity: Manifest = {
        "apiVersion": CAPI_API,
        "kind": "Cluster",
        "metadata": {"name": removal.name, "namespace": removal.namespace},
    }
    return ClusterPlan(
        name=removal.name,
        namespace=removal.namespace,
        wave=wave,
        order=order,
        version=removal.version,
        class_ref=removal.class_ref,
        objects=(identity,),
        action=removal.action,
        machines=removal.machines,
    )


def is_removal(entry: ClusterEntry) -> bool:
    """True for a ClusterRollout that orphans or deletes its cluster instead of applying it."""
    return bool(entry.spec.get("action"))


def start(scope: Scope, entry: ClusterEntry) -> None:
    """Start a removal: orphan the cluster (done at once) or delete its CAPI Cluster (done when it is gone)."""
    run = scope.run
    status: Manifest = {
        **{k: v for k, v in entry.status.items() if k != "reason"},
        "revision": entry.spec["revision"],
        "state": str(ClusterState.IN_FLIGHT),
        "attempts": entry.attempts + 1,
        "startedAt": run.stamp,
    }
    machines = entry.spec.get("machines", "")
    if entry.spec.get("action") == DELETE:
        message = f"decommissioned: deleting Cluster {entry.namespace}/{entry.name} and its {machines} machines"
        entry = scope.write(entry, status, run.event("ClusterDeleting", message, wave=entry.wave, cluster=entry.name))
        scope.workloads.delete_cluster((entry.namespace, entry.name))
        observe(scope, entry)
        return
    message = f"orphaned: Cluster {entry.namespace}/{entry.name} left running, no longer managed by fleetc"
    entry = scope.write(entry, status, run.event("ClusterOrphaned", message, wave=entry.wave, cluster=entry.name))
    scope.workloads.let_go((entry.namespace, entry.name))
    scope.finish(entry, ClusterState.SUCCEEDED, "")


def observe(scope: Scope, entry: ClusterEntry) -> None:
    """A deletion in flight: succeeded once the Cluster is gone (CAPI removes it after its machines), else look
    again in :data:`POLL_SECONDS`."""
    if entry.state is not ClusterState.IN_FLIGHT or entry.spec.get("action") != DELETE:
        return
    if scope.workloads.live_topology((entry.namespace, entry.name)) is None:
        scope.finish(entry, ClusterState.SUCCEEDED, f"Cluster deleted with its {entry.spec.get('machines')} machines")
        return
    at = scope.run.now + POLL_SECONDS
    scope.watch.set_deadline(scope.run.key, entry.name, at)
    scope.run.wakeups.append(at)
