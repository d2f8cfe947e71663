"""The embedded store keeps Kubernetes semantics: versions, generation, status, finalizers, GC, watches."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fleetc.core.errors import AlreadyExists, Conflict, NotFound
from fleetc.core.keys import ObjectKey
from fleetc.runtime.clock import VirtualClock
from fleetc.runtime.memory import MemoryStore, load_state, save_state
from fleetc.runtime.store import Event


def cluster(name: str = "a", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "cluster.x-k8s.io/v1beta2",
        "kind": "Cluster",
        "metadata": {"name": name, "namespace": "ns"},
        "spec": {"topology": {"version": "v1.34.2"}, **spec},
    }


def key(name: str = "a", kind: str = "Cluster") -> ObjectKey:
    return ObjectKey("cluster.x-k8s.io", kind, "ns", name)


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore(VirtualClock())


def test_create_sets_identity_and_refuses_duplicates(store: MemoryStore) -> None:
    created = store.create(cluster())
    assert created["metadata"]["generation"] == 1 and created["metadata"]["uid"]
    assert created["metadata"]["creationTimestamp"] == "2026-01-01T00:00:00Z"
    with pytest.raises(AlreadyExists):
        store.create(cluster())


def test_reads_are_copies(store: MemoryStore) -> None:
    store.create(cluster())
    store.get(key())["spec"]["topology"]["version"] = "v9.9.9"
    assert store.get(key())["spec"]["topology"]["version"] == "v1.34.2"


def test_spec_changes_bump_generation_metadata_changes_do_not(store: MemoryStore) -> None:
    obj = store.create(cluster())
    obj["metadata"]["labels"] = {"x": "y"}
    obj = store.update(obj)
    assert obj["metadata"]["generation"] == 1
    obj["spec"]["topology"]["version"] = "v1.35.0"
    assert store.update(obj)["metadata"]["generation"] == 2


def test_a_stale_resource_version_conflicts(store: MemoryStore) -> None:
    first = store.create(cluster())
    store.update({**first, "spec": {"topology": {"version": "v1.35.0"}}})
    with pytest.raises(Conflict):
        store.update(first)
    with pytest.raises(Conflict):
        store.update_status({**first, "status": {"phase": "Provisioned"}})


def test_status_is_written_only_through_the_status_subresource(store: MemoryStore) -> None:
    obj = store.create(cluster())
    obj = store.update_status({**obj, "status": {"phase": "Provisioned"}})
    assert obj["metadata"]["generation"] == 1
    obj["status"] = {"phase": "Deleting"}
    obj["spec"]["paused"] = True
    assert store.update(obj)["status"] == {"phase": "Provisioned"}


def test_finalizers_hold_deletion_until_removed(store: MemoryStore) -> None:
    obj = cluster()
    obj["metadata"]["finalizers"] = ["cluster.cluster.x-k8s.io"]
    store.create(obj)
    store.delete(key())
    marked = store.get(key())
    assert marked["metadata"]["deletionTimestamp"]
    marked["metadata"]["finalizers"] = []
    store.update(marked)
    assert store.find(key()) is None


def test_deleting_an_owner_deletes_its_dependents(store: MemoryStore) -> None:
    owner = store.create(cluster())
    ref = {"apiVersion": "cluster.x-k8s.io/v1beta2", "kind": "Cluster", "name": "a", "uid": owner["metadata"]["uid"]}
    child = cluster("child")
    child["kind"] = "MachineDeployment"
    child["metadata"]["ownerReferences"] = [ref]
    created_child = store.create(child)
    grandchild = cluster("grandchild")
    grandchild["kind"] = "MachineSet"
    grandchild["metadata"]["ownerReferences"] = [
        {
            "apiVersion": "cluster.x-k8s.io/v1beta2",
            "kind": "MachineDeployment",
            "name": "child",
            "uid": created_child["metadata"]["uid"],
        }
    ]
    store.create(grandchild)
    store.delete(key())
    assert len(store) == 0
    with pytest.raises(NotFound):
        store.get(key("child", "MachineDeployment"))


def test_watchers_see_every_change_in_order(store: MemoryStore) -> None:
    events: list[Event] = []
    store.watch(events.append)
    obj = store.create(cluster())
    store.update_status({**obj, "status": {"phase": "Provisioned"}})
    store.delete(key())
    assert [e.type for e in events] == ["ADDED", "MODIFIED", "DELETED"]
    assert events[1].object["status"] == {"phase": "Provisioned"}


def test_list_filters_by_namespace_and_labels(store: MemoryStore) -> None:
    for name, ring in (("a", "canary"), ("b", "broad"), ("c", "canary")):
        obj = cluster(name)
        obj["metadata"]["labels"] = {"ring": ring}
        store.create(obj)
    names = [o["metadata"]["name"] for o in store.list("cluster.x-k8s.io", "Cluster", "ns", {"ring": "canary"})]
    assert names == ["a", "c"]
    assert store.list("cluster.x-k8s.io", "Cluster", "other") == []


def test_a_snapshot_saved_to_disk_restores_the_same_store(store: MemoryStore, tmp_path: Path) -> None:
    owner = store.create(cluster())
    child = cluster("child")
    child["metadata"]["ownerReferences"] = [
        {"apiVersion": "cluster.x-k8s.io/v1beta2", "kind": "Cluster", "name": "a", "uid": owner["metadata"]["uid"]}
    ]
    store.create(child)
    save_state(tmp_path / "state.json", store.snapshot())
    payload = load_state(tmp_path / "state.json")
    assert payload is not None
    restored = MemoryStore(VirtualClock())
    restored.restore(payload)
    assert restored.snapshot() == store.snapshot()
    restored.delete(key())
    assert len(restored) == 0, "owner references survive the round trip"
    assert restored.create(cluster("new"))["metadata"]["resourceVersion"] == str(int(payload["version"]) + 1)


def test_a_merge_patch_changes_only_what_it_names(store: MemoryStore) -> None:
    obj = cluster()
    obj["metadata"]["labels"] = {"ring": "canary", "env": "dev"}
    store.create(obj)
    patched = store.patch(key(), {"metadata": {"labels": {"env": None, "team": "ml"}}, "spec": {"paused": True}})
    assert patched["metadata"]["labels"] == {"ring": "canary", "team": "ml"}
    assert patched["spec"] == {"topology": {"version": "v1.34.2"}, "paused": True}
    assert patched["metadata"]["generation"] == 2


def test_apply_reports_created_unchanged_updated_and_keeps_other_writers_fields(store: MemoryStore) -> None:
    assert store.apply(cluster(paused=True)) == "created"
    assert store.apply(cluster(paused=True)) == "unchanged"
    live = store.get(key())
    store.update({**live, "spec": {**live["spec"], "controlPlaneRef": {"name": "cp"}}})
    assert store.apply(cluster()) == "updated"
    spec = store.get(key())["spec"]
    assert "paused" not in spec and spec["controlPlaneRef"] == {"name": "cp"}
    entries = store.get(key())["metadata"]["managedFields"]
    assert [(e["manager"], e["operation"]) for e in entries] == [("fleetc", "Apply")]


def test_edit_re_reads_after_a_stale_write(store: MemoryStore) -> None:
    store.create(cluster())
    calls: list[str] = []

    def change(obj: dict[str, Any]) -> None:
        calls.append(obj["metadata"]["resourceVersion"])
        if len(calls) == 1:  # someone else writes between our read and our write
            other = store.get(key())
            store.update({**other, "metadata": {**other["metadata"], "labels": {"by": "other"}}})
        obj["spec"]["paused"] = True

    edited = store.edit(key(), change)
    assert len(calls) == 2 and calls[0] != calls[1]
    assert edited["spec"]["paused"] is True and edited["metadata"]["labels"] == {"by": "other"}


def test_an_update_that_changes_nothing_writes_nothing_as_the_api_server_does(store: MemoryStore) -> None:
    created = store.create(cluster())
    events: list[Event] = []
    store.watch(events.append)
    assert store.update(created)["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]
    with_status = store.update_status({**created, "status": {"phase": "Provisioned"}})
    assert store.update_status(with_status)["metadata"]["resourceVersion"] == with_status["metadata"]["resourceVersion"]
    assert [e.type for e in events] == ["MODIFIED"]  # only the status that changed


def test_a_shared_watcher_sees_nothing_once_unwatched(store: MemoryStore) -> None:
    events: list[Event] = []
    store.watch_shared(events.append)
    store.create(cluster("a"))
    store.unwatch_shared(events.append)
    store.create(cluster("b"))
    assert [e.key.name for e in events] == ["a"]


def _owned_by(name: str, owner: dict[str, Any]) -> dict[str, Any]:
    child = cluster(name)
    child["kind"] = "MachineDeployment"
    child["metadata"]["ownerReferences"] = [
        {"apiVersion": "cluster.x-k8s.io/v1beta2", "kind": "Cluster", "name": owner["metadata"]["name"],
         "uid": owner["metadata"]["uid"]}
    ]  # fmt: skip
    return child


def test_the_cascade_follows_owner_references_through_status_writes_and_owner_changes(store: MemoryStore) -> None:
    first, second = store.create(cluster("first")), store.create(cluster("second"))
    child = store.create(_owned_by("child", first))
    child = store.update_status({**child, "status": {"phase": "Running"}})
    moved = _owned_by("child", second)
    moved["metadata"]["resourceVersion"] = child["metadata"]["resourceVersion"]
    moved = store.update(moved)
    store.update_status({**moved, "status": {"phase": "Deleting"}})

    store.delete(key("first"))
    assert store.find(key("child", "MachineDeployment")) is not None
    store.delete(key("second"))
    assert store.find(key("child", "MachineDeployment")) is None
