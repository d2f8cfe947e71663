"""The rollout controller's reach into workload clusters: judging them, reading them, changing them.

Everything a rollout does to or reads from the CAPI objects of a workload cluster goes through one
:class:`Workloads`: judge a cluster against its target (and from then on have a change of that verdict reported),
when its finding last changed, which Machines it has, what its live Cluster runs, apply its objects or the
revision's shared ones, delete it or let it go. The rollout's own objects (FleetRollout, ClusterRollouts) and its
per-rollout memory (changed clusters, deadlines) stay with the controller.

:class:`LocalWorkloads` is the one every plane uses: the objects are in this process (the informer cache, the
store, the :class:`~fleetc.rollout.watching.Watchlist` that schedules verdict checks). The sharded simulation
(:mod:`fleetc.engine.sharded`) implements the same calls for clusters held by other processes, each of which runs a
:class:`LocalWorkloads` of its own. The calls are narrow on purpose (names, a version pair, a verdict), so that
crossing a process boundary costs a few hundred bytes, not a cluster's objects.
Callers: :class:`~fleetc.rollout.scope.Scope` and the stages through it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Protocol

from fleetc.contract.objects import labels
from fleetc.contract.versions import is_downgrade
from fleetc.contract.vocabulary import CAPI_GROUP
from fleetc.core.errors import Conflict, NotFound, TerminalError
from fleetc.core.keys import Manifest, ObjectKey
from fleetc.render.names import FLEET_LABEL
from fleetc.rollout.applying import Apply, contains
from fleetc.rollout.cache import ClusterId, WorkloadCache
from fleetc.rollout.gates import Target, Verdict
from fleetc.rollout.watching import Watchlist
from fleetc.runtime.store import Store, copy

LET_GO_RETRIES = 5
LiveTopology = tuple[str, str | None]
"""What a live Cluster runs: its ``spec.topology.version`` and ClusterClass name (None without one)."""


class Workloads(Protocol):
    """What a rollout does to and reads from workload clusters (see the module docstring)."""

    def judge(self, rollout: ObjectKey, cluster: ClusterId, target: Target) -> Verdict:
        """The cluster's verdict at ``target``; from now on a change of it is reported for ``rollout``."""
        ...

    def progressing_since(self, cluster: ClusterId) -> float:
        """When the cluster's verdict last changed what it waits for."""
        ...

    def unwatch(self, rollout: ObjectKey, cluster: ClusterId) -> None:
        """Stop reporting changes of the cluster's verdict (and forget its deadline)."""
        ...

    def forget(self, rollout: ObjectKey) -> None:
        """Stop watching every cluster of ``rollout`` and forget what was remembered about it."""
        ...

    def machine_names(self, cluster: ClusterId) -> list[str]:
        """The names of the cluster's Machines, sorted."""
        ...

    def live_topology(self, cluster: ClusterId) -> LiveTopology | None:
        """What the live Cluster runs; None when there is no Cluster."""
        ...

    def apply_cluster(
        self, cluster: ClusterId, desired: Manifest, objects: Sequence[Manifest], version: str
    ) -> tuple[str | None, bool]:
        """Apply a cluster's objects unless its live Cluster holds ``desired``: (a refusal reason, whether applied)."""
        ...

    def apply_shared(self, obj: Manifest) -> None:
        """Apply an object every cluster may use (a namespace, a class revision)."""
        ...

    def delete_cluster(self, cluster: ClusterId) -> None:
        """Delete the CAPI Cluster (gone already: nothing to do)."""
        ...

    def let_go(self, cluster: ClusterId) -> None:
        """Take the fleet label off the live Cluster (gone already: nothing to do)."""
        ...


class LocalWorkloads:
    """The workload clusters of this process: read from the informer cache, judged through the watch list, changed
    through ``apply`` and the store."""

    def __init__(self, watch: Watchlist, cache: WorkloadCache, apply: Apply, store: Store) -> None:
        self._watch, self._cache, self._apply, self._store = watch, cache, apply, store

    def judge(self, rollout: ObjectKey, cluster: ClusterId, target: Target) -> Verdict:
        verdict = self._watch.verdict(cluster, target)
        self._watch.watch(rollout, cluster, target, verdict)
        return verdict

    def progressing_since(self, cluster: ClusterId) -> float:
        return self._watch.progressing_since(cluster)

    def unwatch(self, rollout: ObjectKey, cluster: ClusterId) -> None:
        self._watch.unwatch(rollout, cluster)

    def forget(self, rollout: ObjectKey) -> None:
        self._watch.forget(rollout)

    def machine_names(self, cluster: ClusterId) -> list[str]:
        return sorted(m["metadata"]["name"] for m in self._cache.objects(cluster).machines)

    def live_topology(self, cluster: ClusterId) -> LiveTopology | None:
        live = self._cache.cluster(cluster)
        return topology_of(live) if live is not None else None

    def apply_cluster(
        self, cluster: ClusterId, desired: Manifest, objects: Sequence[Manifest], version: str
    ) -> tuple[str | None, bool]:
        live = self._cache.cluster(cluster)
        if live is not None:
            current = str(live.get("spec", {}).get("topology", {}).get("version", ""))
            if is_downgrade(current, version):
                return (
                    f"cluster {cluster[1]}: Cluster {cluster[1]}: spec.topology.version: refusing to roll back "
                    f"{current} to {version} (CAPI cannot downgrade a control plane)"
                ), False
            if contains(live, desired):
                return None, False
        for obj in objects:
            try:
                self._apply(copy(obj))  # the cached object is shared: the applier gets its own
            except TerminalError as exc:  # rejected for good (an admission webhook…); anything else is retried
                return f"cluster {cluster[1]}: {obj['kind']} {obj['metadata']['name']}: apply rejected: {exc}", True
        return None, True

    def apply_shared(self, obj: Manifest) -> None:
        self._apply(obj)

    def delete_cluster(self, cluster: ClusterId) -> None:
        with contextlib.suppress(NotFound):  # gone already (a resumed rollout)
            self._store.delete(cluster_key(cluster))

    def let_go(self, cluster: ClusterId) -> None:
        key = cluster_key(cluster)
        for attempt in range(LET_GO_RETRIES):
            live = self._store.find(key)
            if live is None or FLEET_LABEL not in labels(live):
                return
            metadata = {**live["metadata"], "labels": {k: v for k, v in labels(live).items() if k != FLEET_LABEL}}
            try:
                self._store.update({**live, "metadata": metadata})
                return
            except Conflict:
                if attempt == LET_GO_RETRIES - 1:
                    raise


def cluster_key(cluster: ClusterId) -> ObjectKey:
    """The key of a workload cluster's CAPI Cluster."""
    return ObjectKey(CAPI_GROUP, "Cluster", cluster[0], cluster[1])


def topology_of(live: Manifest) -> LiveTopology:
    """A live Cluster's version and ClusterClass name."""
    topology = live.get("spec", {}).get("topology", {})
    name = topology.get("classRef", {}).get("name")
    return str(topology.get("version", "")), (str(name) if name is not None else None)
