"""The rollout controller's workload cache gives the gates the same view as sorting the cluster's objects afresh.

The cache keeps each cluster's objects in the gates' order across writes instead of sorting them for every verdict,
and skips finding the cluster of a write that changed nothing that names it. Both shortcuts are checked here against
the plain answer, :meth:`ClusterObjects.of` over the objects a model of the store holds, after every kind of write.
"""

from __future__ import annotations

import random
from typing import Any

from fleetc.contract.vocabulary import CLUSTER_NAME_LABEL
from fleetc.core.keys import Manifest, ObjectKey
from fleetc.rollout.cache import WorkloadCache, cluster_of
from fleetc.rollout.gates import ClusterObjects

NAMESPACE = "fleet"
CLUSTERS = ("eu-1", "eu-2")
KINDS = (
    ("cluster.x-k8s.io/v1beta2", "Machine"),
    ("cluster.x-k8s.io/v1beta2", "MachineSet"),
    ("cluster.x-k8s.io/v1beta2", "MachineDeployment"),
    ("controlplane.cluster.x-k8s.io/v1beta2", "KubeadmControlPlane"),
)


def _object(api_version: str, kind: str, name: str, cluster: str, created: int) -> Manifest:
    return {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {
            "name": name,
            "namespace": NAMESPACE,
            "labels": {CLUSTER_NAME_LABEL: cluster},
            "creationTimestamp": f"2026-12-06T10:{created // 60:02d}:{created % 60:02d}Z",
        },
        "spec": {},
        "status": {"conditions": []},
    }


def _status_write(obj: Manifest, step: int) -> Manifest:
    """A new version sharing metadata's parts and spec, as the store makes for a status write."""
    return {**obj, "metadata": dict(obj["metadata"]), "status": {"observedGeneration": step, "conditions": []}}


def _expected(store: dict[ObjectKey, Manifest], cluster: str) -> ClusterObjects:
    return ClusterObjects.of([obj for obj in store.values() if cluster_of(obj) == (NAMESPACE, cluster)])


def _views(view: ClusterObjects) -> dict[str, Any]:
    return {
        "cluster": view.cluster,
        "control_planes": [id(o) for o in view.control_planes],
        "machines": [id(o) for o in view.machines],
        "machine_sets": [id(o) for o in view.machine_sets],
        "machine_deployments": [id(o) for o in view.machine_deployments],
    }


def test_every_write_leaves_the_cache_in_the_order_a_fresh_sort_gives() -> None:
    rng = random.Random(11)
    cache, store = WorkloadCache(), dict[ObjectKey, Manifest]()
    created = 0
    for step in range(600):
        choice = rng.random()
        existing = sorted(store)
        if choice < 0.35 or not existing:
            api_version, kind = rng.choice(KINDS)
            created += rng.choice((0, 1, 7))  # equal creation times too: the name breaks the tie
            obj = _object(api_version, kind, f"m-{rng.randrange(40):02d}", rng.choice(CLUSTERS), created)
        else:
            key = rng.choice(existing)
            current = store[key]
            if choice < 0.75:
                obj = _status_write(current, step)
            elif choice < 0.85:  # relabelled into the other cluster
                other = CLUSTERS[1] if cluster_of(current) == (NAMESPACE, CLUSTERS[0]) else CLUSTERS[0]
                metadata = {**current["metadata"], "labels": {CLUSTER_NAME_LABEL: other}}
                obj = {**current, "metadata": metadata}
            elif choice < 0.9:  # recreated under the same name (a delete event missed): a later creation time
                created += 3
                metadata = {**current["metadata"], "creationTimestamp": f"2026-12-06T11:{created % 3600 // 60:02d}:00Z"}
                obj = {**current, "metadata": metadata}
            else:
                del store[key]
                cache.remove(key)
                for cluster in CLUSTERS:
                    assert _views(cache.objects((NAMESPACE, cluster))) == _views(_expected(store, cluster))
                continue
        key = ObjectKey.of(obj)
        store[key] = obj
        cache.put(key, obj)
        for cluster in CLUSTERS:
            assert _views(cache.objects((NAMESPACE, cluster))) == _views(_expected(store, cluster)), step


def test_a_status_write_keeps_the_object_in_its_cluster_and_a_relabel_moves_it() -> None:
    cache = WorkloadCache()
    machine = _object("cluster.x-k8s.io/v1beta2", "Machine", "m-1", "eu-1", 5)
    key = ObjectKey.of(machine)
    cache.put(key, machine)
    written = _status_write(machine, 1)
    assert cache.put(key, written) == (NAMESPACE, "eu-1")
    assert cache.objects((NAMESPACE, "eu-1")).machines == (written,)
    moved = {**written, "metadata": {**written["metadata"], "labels": {CLUSTER_NAME_LABEL: "eu-2"}}}
    assert cache.put(key, moved) == (NAMESPACE, "eu-2")
    assert cache.objects((NAMESPACE, "eu-1")).machines == ()
    assert cache.objects((NAMESPACE, "eu-2")).machines == (moved,)
