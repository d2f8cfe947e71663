"""A read cache of the store, indexed by workload cluster: what controller-runtime's informer cache is to CAPI.

CAPI controllers read through an informer cache with field indexes (``ClusterNameField``, owner indexes) and
never list the API server on the hot path; so do the simulated ones. The cache follows the store's watch
events synchronously (the embedded store delivers them inside each write), so it is never stale.

Objects handed out are the cache's own: treat them as read-only and copy before changing (the writers in
:class:`fleetc.sim.context.SimContext` does). Install the simulation after restoring a store snapshot: the cache
primes itself from the store's contents when created (a restore emits no events).
"""

from __future__ import annotations

from collections import defaultdict

from fleetc.contract.objects import cluster_name, cluster_name_kept, labels
from fleetc.contract.vocabulary import GroupKind
from fleetc.core.keys import Manifest, ObjectKey
from fleetc.runtime.store import Event, Store

ClusterIndex = tuple[str, str, str, str]


class ObjectCache:
    """Every object of the store by key, and by (group, kind, namespace, cluster)."""

    def __init__(self, store: Store) -> None:
        self._objects: dict[GroupKind, dict[tuple[str, str], Manifest]] = defaultdict(dict)
        self._by_cluster: dict[ClusterIndex, dict[str, Manifest]] = defaultdict(dict)
        # Two layers of derived indexes per cluster index. The first depends only on which objects are members and
        # on their labels: it is dropped when a member comes, goes or gets other labels. The second holds the
        # objects themselves: it is dropped on any change of a member (a status write, mostly).
        self._names: dict[ClusterIndex, tuple[str, ...]] = {}
        """Sorted member names."""
        self._label_names: dict[ClusterIndex, dict[str, dict[str | None, tuple[str, ...]]]] = {}
        """Sorted member names by the value of a label, per label (one pass groups them all)."""
        self._sorted: dict[ClusterIndex, tuple[Manifest, ...]] = {}
        """Members in name order."""
        self._labelled: dict[ClusterIndex, dict[tuple[str, str], tuple[Manifest, ...]]] = {}
        """Members with a label value, in name order, per (label, value)."""
        for group, kind in store.kinds():
            for obj in store.list(group, kind):
                self._put(ObjectKey.of(obj), obj)
        store.watch_shared(self._on_event)

    def get(self, group_kind: GroupKind, namespace: str, name: str) -> Manifest | None:
        """The cached object, or None."""
        return self._objects[group_kind].get((namespace, name))

    def find(self, key: ObjectKey) -> Manifest | None:
        """The cached object with that key, or None."""
        return self._objects[(key.group, key.kind)].get((key.namespace, key.name))

    def of_cluster(self, group_kind: GroupKind, namespace: str, cluster: str) -> tuple[Manifest, ...]:
        """The objects of a kind that belong to a cluster, sorted by name (a shared tuple: callers read it, and a
        controller asks for the same cluster's Machines many times between two changes to them)."""
        index = (*group_kind, namespace, cluster)
        ordered = self._sorted.get(index)
        if ordered is None:
            found = self._by_cluster.get(index)
            if not found:
                return ()
            names = self._names.get(index)
            if names is None:
                names = self._names[index] = tuple(sorted(found))
            ordered = self._sorted[index] = tuple([found[name] for name in names])
        return ordered

    def labelled(
        self, group_kind: GroupKind, namespace: str, cluster: str, label: str, value: str
    ) -> tuple[Manifest, ...]:
        """The objects of :meth:`of_cluster` whose ``label`` is ``value``, sorted by name (shared, like it): a
        MachineSet's Machines, a MachineDeployment's MachineSets, a control plane's Machines."""
        index = (*group_kind, namespace, cluster)
        objects = self._labelled.get(index)
        if objects is None:
            objects = self._labelled[index] = {}
        found = objects.get((label, value))
        if found is None:
            members = self._by_cluster.get(index, {})
            found = objects[(label, value)] = tuple(
                [members[n] for n in self._names_by_label(index, label).get(value, ())]
            )
        return found

    def _names_by_label(self, index: ClusterIndex, label: str) -> dict[str | None, tuple[str, ...]]:
        by_label = self._label_names.get(index)
        if by_label is None:
            by_label = self._label_names[index] = {}
        by_value = by_label.get(label)
        if by_value is None:
            grouped: dict[str | None, list[str]] = {}
            for member in self.of_cluster(index[:2], index[2], index[3]):
                grouped.setdefault(labels(member).get(label), []).append(member["metadata"]["name"])
            by_value = by_label[label] = {v: tuple(names) for v, names in grouped.items()}
        return by_value

    def all(self, group_kind: GroupKind) -> list[Manifest]:
        """Every cached object of a kind, sorted by namespace and name."""
        bucket = self._objects[group_kind]
        return [bucket[k] for k in sorted(bucket)]

    def _on_event(self, event: Event) -> None:
        if event.type == "DELETED":
            self._drop(event.key)
        else:
            self._put(event.key, event.object)

    def _put(self, key: ObjectKey, obj: Manifest) -> None:
        bucket = self._objects[(key.group, key.kind)]
        previous = bucket.get((key.namespace, key.name))
        bucket[(key.namespace, key.name)] = obj
        if previous is not None and cluster_name_kept(previous, obj):
            cluster = cluster_name(previous)  # what names the cluster is the same (a status write): no move
        else:
            cluster = cluster_name(obj)
            old = cluster_name(previous) if previous is not None else None
            if old is not None and old != cluster:
                self._leave((key.group, key.kind, key.namespace, old), key.name)
        if cluster is None:
            return
        index = (key.group, key.kind, key.namespace, cluster)
        members = self._by_cluster[index]
        before = members.get(key.name)
        members[key.name] = obj
        self._sorted.pop(index, None)
        self._labelled.pop(index, None)
        if before is None or before["metadata"].get("labels") is not obj["metadata"].get("labels"):
            self._names.pop(index, None)
            self._label_names.pop(index, None)

    def _leave(self, index: ClusterIndex, name: str) -> None:
        """A member leaves an index: drop every index derived from it."""
        self._sorted.pop(index, None)
        self._labelled.pop(index, None)
        self._names.pop(index, None)
        self._label_names.pop(index, None)
        members = self._by_cluster.get(index)
        if members is not None:
            members.pop(name, None)
            if not members:
                del self._by_cluster[index]

    def _drop(self, key: ObjectKey) -> None:
        previous = self._objects[(key.group, key.kind)].pop((key.namespace, key.name), None)
        if previous is None:
            return
        cluster = cluster_name(previous)
        if cluster is not None:
            self._leave((key.group, key.kind, key.namespace, cluster), key.name)
