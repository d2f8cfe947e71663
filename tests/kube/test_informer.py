"""Informers over a real API server: list + watch see every change, and a watch from a lost resourceVersion relists."""

from __future__ import annotations

from fleetc.runtime.store import Event
from tests.kube.support import KubeApi, eventually, store_on


def test_list_and_watch_see_create_update_and_delete_made_elsewhere(kube_api: KubeApi, kube_namespace: str) -> None:
    store = store_on(kube_api, kube_namespace)
    seen: list[tuple[str, str, dict[str, str]]] = []
    store.watch(lambda e: seen.append((e.type, e.key.name, e.object.get("data", {}))) if e.key.name == "w" else None)
    try:
        assert store.list("", "ConfigMap") == []
        kube_api.kubectl("create", "configmap", "w", "--from-literal=v=1", "-n", kube_namespace)
        kube_api.kubectl("patch", "configmap", "w", "-n", kube_namespace, "--type=merge", "-p", '{"data":{"v":"2"}}')
        kube_api.kubectl("delete", "configmap", "w", "-n", kube_namespace)
        eventually(store, lambda: len(seen) == 3)
        assert seen == [("ADDED", "w", {"v": "1"}), ("MODIFIED", "w", {"v": "2"}), ("DELETED", "w", {"v": "2"})]
        assert store.list("", "ConfigMap") == []
    finally:
        store.close()


def test_a_watch_from_a_resource_version_the_server_no_longer_has_relists(
    kube_api: KubeApi, kube_namespace: str
) -> None:
    """Resuming from resourceVersion 1 (as a process restarted long after its last event would) gets 410 Gone: the
    fixture's API server serves ConfigMap watches from etcd (``--watch-cache-sizes=configmaps#0``) and compacts etcd
    every few seconds (``--etcd-compaction-interval=3s``), so that revision is gone; the informer lists again and
    carries on watching from the list."""
    for name in ("a", "b"):
        kube_api.kubectl("create", "configmap", name, "--from-literal=v=1", "-n", kube_namespace)
    store = store_on(kube_api, kube_namespace)
    seen: list[Event] = []
    store.watch(seen.append)
    try:
        store.inform("", "ConfigMap", since="1")
        eventually(store, lambda: {e.key.name for e in seen} == {"a", "b"})
        assert store.informer("", "ConfigMap").relists == 1
        assert [e.type for e in seen] == ["ADDED", "ADDED"]
        kube_api.kubectl("create", "configmap", "c", "-n", kube_namespace)
        eventually(store, lambda: [o["metadata"]["name"] for o in store.list("", "ConfigMap")] == ["a", "b", "c"])
        assert store.informer("", "ConfigMap").relists == 1
    finally:
        store.close()
