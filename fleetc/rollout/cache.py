"""The rollout controller's informer: an in-memory cache of what it reads, indexed, kept current by store events.

Two indexes, both primed by listing the store once and then updated by every watch event (adds, changes and
deletions alike), so a reconcile never lists or rescans the fleet:

- :class:`WorkloadCache`: the CAPI objects of each workload cluster (Cluster, KubeadmControlPlane, Machines,
  MachineDeployments, MachineSets, MachineHealthChecks), keyed by (namespace, cluster name), each cluster's
  :class:`~fleetc.rollout.gates.ClusterObjects` built once per change; it also remembers the Machines deleted while
  flagged ``HealthCheckSucceeded=False`` (CAPI replaces a flagged worker at once: without this memory no gate could
  tell a pool that fails every machine from a healthy one). The memory lives as long as the process;
- :class:`RolloutIndex`: the ClusterRollouts of each FleetRollout by wave, with counts per state, the set in
  flight and a cursor over the pending ones.
Caller: :class:`~fleetc.rollout.controller.RolloutController`, which owns one of each.
A :class:`~fleetc.runtime.memory.MemoryStore` delivers events synchronously, so the cache reflects a write as soon
as it returns; a store restored in place (``restore`` emits no events) needs :meth:`Informer.resync`. Cached objects
are shared and never modified: whoever needs to change one works on a copy.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass, field

from fleetc.contract.objects import cluster_name, cluster_name_kept
from fleetc.contract.vocabulary import WORKLOAD_KINDS
from fleetc.core.keys import Manifest, ObjectKey
from fleetc.rollout.entries import ClusterEntry
from fleetc.rollout.gate_objects import health_check_failed, order_key
from fleetc.rollout.gates import ClusterObjects
from fleetc.rollout.model import CLUSTER_ROLLOUT, GROUP, ClusterState
from fleetc.runtime.store import Event, Store

ClusterId = tuple[str, str]
"""A workload cluster: (namespace, name)."""
RolloutId = tuple[str, str]
"""A FleetRollout: (namespace, name)."""


def cluster_of(obj: Manifest) -> ClusterId | None:
    """The workload cluster a CAPI object belongs to, with its namespace (CAPI's rule: :func:`cluster_name`)."""
    name = cluster_name(obj)
    return (obj["metadata"].get("namespace", ""), name) if name else None


@dataclass
class _Bucket:
    objects: dict[tuple[str, str], Manifest] = field(default_factory=dict)
    order: list[tuple[tuple[str, str], tuple[str, str]]] = field(default_factory=list)
    """(:func:`order_key`, (kind, name)) of every object, sorted: the order :class:`ClusterObjects` lists them in,
    kept across writes (an object's creation time and name never change), so a view is built without sorting."""
    remediated: dict[str, Manifest] = field(default_factory=dict)
    """Machines deleted while flagged unhealthy: their last state, by name."""
    view: ClusterObjects | None = None


class WorkloadCache:
    """The CAPI objects of every workload cluster, by cluster."""

    def __init__(self) -> None:
        self._buckets: dict[ClusterId, _Bucket] = {}
        self._homes: dict[ObjectKey, ClusterId] = {}

    def put(self, key: ObjectKey, obj: Manifest) -> ClusterId | None:
        """Record the current state of an object; the cluster it belongs to."""
        slot = (key.kind, key.name)
        old = self._homes.get(key)
        before = self._buckets[old].objects.get(slot) if old is not None else None
        if before is not None and cluster_name_kept(before, obj):
            home: ClusterId | None = old  # a status write: what names the cluster is the same
        else:
            home = cluster_of(obj)
            if old is not None and old != home:
                self.remove(key)
                before = None
        if home is None:
            return None
        bucket = self._buckets.get(home)
        if bucket is None:
            bucket = self._buckets[home] = _Bucket()
        bucket.objects[slot] = obj
        if before is None:
            bisect.insort(bucket.order, (order_key(obj), slot))
        elif before["metadata"].get("creationTimestamp") != obj["metadata"].get("creationTimestamp"):
            bucket.order.remove((order_key(before), slot))
            bisect.insort(bucket.order, (order_key(obj), slot))
        bucket.view = None
        self._homes[key] = home
        return home

    def remove(self, key: ObjectKey) -> ClusterId | None:
        """Forget a deleted object (remember a Machine flagged unhealthy); the cluster it belonged to."""
        home = self._homes.pop(key, None)
        if home is None:
            return None
        bucket = self._buckets[home]
        last = bucket.objects.pop((key.kind, key.name), None)
        if last is not None:
            bucket.order.remove((order_key(last), (key.kind, key.name)))
        if last is not None and key.kind == "Machine" and health_check_failed(last):
            bucket.remediated[key.name] = last
        bucket.view = None
        if not bucket.objects:
            del self._buckets[home]
        return home

    def objects(self, cluster: ClusterId) -> ClusterObjects:
        """The cluster's objects as the gate reads them (built once per change)."""
        bucket = self._buckets.get(cluster)
        if bucket is None:
            return ClusterObjects(cluster=None)
        if bucket.view is None:
            objects = bucket.objects
            ordered = [objects[slot] for _, slot in bucket.order]
            bucket.view = ClusterObjects.of_ordered(ordered, bucket.remediated.values())
        return bucket.view

    def cluster(self, cluster: ClusterId) -> Manifest | None:
        """The live CAPI Cluster object."""
        bucket = self._buckets.get(cluster)
        return bucket.objects.get(("Cluster", cluster[1])) if bucket else None

    def clear(self) -> None:
        """Forget everything."""
        self._buckets.clear()
        self._homes.clear()


@dataclass
class _Wave:
    names: list[tuple[int, str]] = field(default_factory=list)
    """(order, cluster name), sorted."""
    by_state: dict[ClusterState, set[str]] = field(default_factory=lambda: {state: set() for state in ClusterState})
    cursor: int = 0
    """No pending cluster sits before this position of ``names``."""


@dataclass
class _Rollout:
    entries: dict[str, ClusterEntry] = field(default_factory=dict)
    waves: dict[str, _Wave] = field(default_factory=dict)
    revisions: dict[str, int] = field(default_factory=dict)
    """How many ClusterRollouts carry each spec revision."""


class RolloutIndex:
    """The ClusterRollouts of every FleetRollout, by wave and state."""

    def __init__(self) -> None:
        self._rollouts: dict[RolloutId, _Rollout] = {}

    def put(self, obj: Manifest) -> None:
        """Record the current state of a ClusterRollout."""
        entry = ClusterEntry(obj)
        rollout = self._rollouts.setdefault((entry.key.namespace, entry.rollout), _Rollout())
        old = rollout.entries.get(entry.name)
        rollout.entries[entry.name] = entry
        if old is not None and (old.wave, old.order) == (entry.wave, entry.order):
            self._restate(rollout, old, entry)
            return
        if old is not None:
            self._unindex(rollout, old)
        self._index(rollout, entry)

    def _restate(self, rollout: _Rollout, old: ClusterEntry, new: ClusterEntry) -> None:
        """A change that keeps the cluster's place: move it between state sets and revision counts."""
        self._count_revision(rollout, old.spec["revision"], -1)
        self._count_revision(rollout, new.spec["revision"], +1)
        wave = rollout.waves[new.wave]
        wave.by_state[old.state].discard(old.name)
        wave.by_state[new.state].add(new.name)
        if new.state is ClusterState.PENDING:
            wave.cursor = min(wave.cursor, bisect.bisect_left(wave.names, (new.order, new.name)))

    @staticmethod
    def _count_revision(rollout: _Rollout, revision: str, delta: int) -> None:
        count = rollout.revisions.get(revision, 0) + delta
        if count:
            rollout.revisions[revision] = count
        else:
            rollout.revisions.pop(revision, None)

    def remove(self, obj: Manifest) -> None:
        """Forget a deleted ClusterRollout."""
        entry = ClusterEntry(obj)
        rollout = self._rollouts.get((entry.key.namespace, entry.rollout))
        old = rollout.entries.pop(entry.name, None) if rollout else None
        if rollout is not None and old is not None:
            self._unindex(rollout, old)

    def _index(self, rollout: _Rollout, entry: ClusterEntry) -> None:
        wave = rollout.waves.setdefault(entry.wave, _Wave())
        position = bisect.bisect_left(wave.names, (entry.order, entry.name))
        if position == len(wave.names) or wave.names[position] != (entry.order, entry.name):
            wave.names.insert(position, (entry.order, entry.name))
        state = entry.state
        wave.by_state[state].add(entry.name)
        if state is ClusterState.PENDING:
            wave.cursor = min(wave.cursor, position)
        self._count_revision(rollout, entry.spec["revision"], +1)

    def _unindex(self, rollout: _Rollout, entry: ClusterEntry) -> None:
        wave = rollout.waves[entry.wave]
        wave.by_state[entry.state].discard(entry.name)
        self._count_revision(rollout, entry.spec["revision"], -1)
        position = bisect.bisect_left(wave.names, (entry.order, entry.name))
        if position < len(wave.names) and wave.names[position] == (entry.order, entry.name):
            del wave.names[position]
            wave.cursor = min(wave.cursor, position)

    # reading

    def entry(self, rollout: RolloutId, cluster: str) -> ClusterEntry:
        """One cluster's ClusterRollout."""
        return self._rollouts[rollout].entries[cluster]

    def find(self, rollout: RolloutId, cluster: str) -> ClusterEntry | None:
        """One cluster's ClusterRollout, or None."""
        found = self._rollouts.get(rollout)
        return found.entries.get(cluster) if found else None

    def carrying(self, rollout: RolloutId, revision: str) -> int:
        """How many ClusterRollouts of the rollout carry ``revision``."""
        found = self._rollouts.get(rollout)
        return found.revisions.get(revision, 0) if found else 0

    def names(self, rollout: RolloutId, wave: str, state: ClusterState) -> list[str]:
        """The clusters of a wave in a state, in wave order."""
        found = self._wave(rollout, wave)
        if found is None:
            return []
        members = found.by_state[state]
        if len(members) * 4 < len(found.names):
            order = {name: position for position, (_, name) in enumerate(found.names)}
            return sorted(members, key=order.__getitem__)
        return [name for _, name in found.names if name in members]

    def count(self, rollout: RolloutId, wave: str, state: ClusterState) -> int:
        """How many clusters of a wave are in a state."""
        found = self._wave(rollout, wave)
        return len(found.by_state[state]) if found else 0

    def next_pending(self, rollout: RolloutId, wave: str, limit: int) -> list[str]:
        """Up to ``limit`` pending clusters of a wave, in wave order (amortised: a cursor skips started ones)."""
        found = self._wave(rollout, wave)
        if found is None or limit <= 0:
            return []
        pending = found.by_state[ClusterState.PENDING]
        result: list[str] = []
        position = found.cursor
        while position < len(found.names) and len(result) < limit:
            name = found.names[position][1]
            if name in pending:
                if not result:
                    found.cursor = position
                result.append(name)
            position += 1
        if not result:
            found.cursor = len(found.names)
        return result

    def _wave(self, rollout: RolloutId, wave: str) -> _Wave | None:
        found = self._rollouts.get(rollout)
        return found.waves.get(wave) if found else None

    def clear(self) -> None:
        """Forget everything."""
        self._rollouts.clear()


class Informer:
    """Feeds a :class:`WorkloadCache` and a :class:`RolloutIndex` from a store: primed by a list, then by events."""

    def __init__(self, store: Store, on_workload_change: Callable[[ClusterId], None]) -> None:
        self.workloads = WorkloadCache()
        self.rollouts = RolloutIndex()
        self._store = store
        self._on_workload_change = on_workload_change
        self._kinds = {*WORKLOAD_KINDS}
        self.resync()
        store.watch_shared(self._on_event)  # read-only: it keeps the stored objects themselves, never copies

    def resync(self) -> None:
        """Rebuild both indexes from a full list (after a store was restored in place), sharing the stored objects."""
        self.workloads.clear()
        self.rollouts.clear()
        for group, kind in sorted(self._kinds):
            for obj in self._store.list_shared(group, kind):
                self.workloads.put(ObjectKey.of(obj), obj)
        for obj in self._store.list_shared(GROUP, CLUSTER_ROLLOUT):
            self.rollouts.put(obj)

    def _on_event(self, event: Event) -> None:
        key = event.key
        if (key.group, key.kind) == (GROUP, CLUSTER_ROLLOUT):
            if event.type == "DELETED":
                self.rollouts.remove(event.object)
            else:
                self.rollouts.put(event.object)
            return
        if (key.group, key.kind) not in self._kinds:
            return
        deleted = event.type == "DELETED"
        home = self.workloads.remove(key) if deleted else self.workloads.put(key, event.object)
        if home is not None:
            self._on_workload_change(home)
