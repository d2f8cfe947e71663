"""The simulation's read cache answers like a fresh scan of the store after every kind of write.

It keeps per-cluster lists and label groups between writes (the simulated controllers ask for them thousands of
times per change); each test makes one kind of write and compares the answers with a scan of the store.
"""

from __future__ import annotations

from typing import Any

import pytest

from fleetc.core.keys import Manifest, ObjectKey
from fleetc.runtime.clock import VirtualClock
from fleetc.runtime.memory import MemoryStore
from fleetc.sim.cache import ObjectCache

MACHINE = ("cluster.x-k8s.io", "Machine")
SET_LABEL = "cluster.x-k8s.io/set-name"


def machine(name: str, cluster: str = "eu-1", machine_set: str = "a") -> dict[str, Any]:
    return {
        "apiVersion": "cluster.x-k8s.io/v1beta2",
        "kind": "Machine",
        "metadata": {
            "name": name,
            "namespace": "fleet",
            "labels": {"cluster.x-k8s.io/cluster-name": cluster, SET_LABEL: machine_set},
        },
        "spec": {"clusterName": cluster},
    }


@pytest.fixture
def store() -> MemoryStore:
    store = MemoryStore(VirtualClock())
    for name, machine_set in (("m-3", "a"), ("m-1", "b"), ("m-2", "a")):
        store.create(machine(name, machine_set=machine_set))
    return store


def scanned(store: MemoryStore, cluster: str, machine_set: str | None = None) -> list[Manifest]:
    """What a scan of the store answers."""
    return [
        m
        for m in store.list_shared(*MACHINE)
        if m["metadata"]["labels"]["cluster.x-k8s.io/cluster-name"] == cluster
        and (machine_set is None or m["metadata"]["labels"][SET_LABEL] == machine_set)
    ]


def assert_answers_like_a_scan(cache: ObjectCache, store: MemoryStore) -> None:
    for cluster in ("eu-1", "eu-2"):
        assert list(cache.of_cluster(MACHINE, "fleet", cluster)) == scanned(store, cluster)
        for machine_set in ("a", "b", "c"):
            assert list(cache.labelled(MACHINE, "fleet", cluster, SET_LABEL, machine_set)) == scanned(
                store, cluster, machine_set
            )


def test_answers_are_sorted_by_name_and_grouped_by_label(store: MemoryStore) -> None:
    cache = ObjectCache(store)
    assert [m["metadata"]["name"] for m in cache.of_cluster(MACHINE, "fleet", "eu-1")] == ["m-1", "m-2", "m-3"]
    assert [m["metadata"]["name"] for m in cache.labelled(MACHINE, "fleet", "eu-1", SET_LABEL, "a")] == ["m-2", "m-3"]
    assert_answers_like_a_scan(cache, store)


def test_a_status_write_is_seen(store: MemoryStore) -> None:
    cache = ObjectCache(store)
    assert_answers_like_a_scan(cache, store)  # fill the indexes first
    current = store.get(ObjectKey("cluster.x-k8s.io", "Machine", "fleet", "m-2"))
    store.update_status({**current, "status": {"phase": "Running"}})
    assert_answers_like_a_scan(cache, store)
    assert cache.labelled(MACHINE, "fleet", "eu-1", SET_LABEL, "a")[0]["status"] == {"phase": "Running"}


def test_a_relabelled_object_moves_between_groups(store: MemoryStore) -> None:
    cache = ObjectCache(store)
    assert_answers_like_a_scan(cache, store)
    current = store.get(ObjectKey("cluster.x-k8s.io", "Machine", "fleet", "m-3"))
    current["metadata"]["labels"][SET_LABEL] = "c"
    store.update(current)
    assert_answers_like_a_scan(cache, store)


def test_created_deleted_and_moved_objects_are_seen(store: MemoryStore) -> None:
    cache = ObjectCache(store)
    assert_answers_like_a_scan(cache, store)
    store.create(machine("m-0", machine_set="b"))
    assert_answers_like_a_scan(cache, store)
    store.delete(ObjectKey("cluster.x-k8s.io", "Machine", "fleet", "m-1"))
    assert_answers_like_a_scan(cache, store)
    moved = store.get(ObjectKey("cluster.x-k8s.io", "Machine", "fleet", "m-2"))
    moved["metadata"]["labels"]["cluster.x-k8s.io/cluster-name"] = "eu-2"
    moved["spec"]["clusterName"] = "eu-2"
    store.update(moved)
    assert_answers_like_a_scan(cache, store)


def test_an_object_moved_by_its_label_alone_is_seen(store: MemoryStore) -> None:
    """The cache skips finding the cluster of a write that kept labels, spec and owner references; a write through
    ``replace`` that changes only the cluster-name label keeps the very same spec, and must still move."""
    cache = ObjectCache(store)
    key = ObjectKey("cluster.x-k8s.io", "Machine", "fleet", "m-2")
    store.update_status({**store.get(key), "status": {"phase": "Running"}})  # the cache now holds the stored object
    assert_answers_like_a_scan(cache, store)
    current = next(m for m in store.list_shared(*MACHINE) if m["metadata"]["name"] == "m-2")  # the stored one
    relabelled = {**current["metadata"]["labels"], "cluster.x-k8s.io/cluster-name": "eu-2"}
    store.replace({**current, "metadata": {**current["metadata"], "labels": relabelled}})
    assert_answers_like_a_scan(cache, store)
    assert [m["metadata"]["name"] for m in cache.of_cluster(MACHINE, "fleet", "eu-2")] == ["m-2"]
