"""Informers over a real API server: list + watch see every change, and a watch from a lost resourceVersion relists."""

from __future__ import annotations

import time
from typing import Any

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


def test_an_informer_lists_in_pages_into_one_snapshot(kube_api: KubeApi, kube_namespace: str) -> None:
    for name in ("a", "b", "c", "d", "e"):
        kube_api.kubectl("create", "configmap", name, "--from-literal=v=1", "-n", kube_namespace)
    store = store_on(kube_api, kube_namespace)
    store.list_page = 2
    send = store.api.request
    pages: list[dict[str, str]] = []

    def recorded(method: str, path: str, call: Any, **options: Any) -> Any:
        if "limit" in (options.get("query") or {}):
            pages.append(options["query"])
        return send(method, path, call, **options)

    store.api.request = recorded  # type: ignore[method-assign]
    try:
        store.inform("", "ConfigMap")
        assert [page["limit"] for page in pages] == ["2", "2", "2"]  # 2 + 2 + 1 objects
        assert ["continue" in page for page in pages] == [False, True, True]
        assert [o["metadata"]["name"] for o in store.list("", "ConfigMap")] == ["a", "b", "c", "d", "e"]
        assert all("managedFields" not in o["metadata"] for o in store.list_shared("", "ConfigMap"))
        kube_api.kubectl("create", "configmap", "f", "-n", kube_namespace)  # the watch starts from the snapshot
        eventually(store, lambda: len(store.list("", "ConfigMap")) == 6)
    finally:
        store.close()


def test_a_list_whose_continue_token_was_compacted_away_lists_again_unpaginated(
    kube_api: KubeApi, kube_namespace: str
) -> None:
    """A slow client (the next page asked for after etcd compacted the first page's revision away: the fixture
    compacts every 3 s and serves ConfigMap lists from etcd) gets 410 for the continue token, and lists again."""
    for name in ("a", "b", "c"):
        kube_api.kubectl("create", "configmap", name, "-n", kube_namespace)
    store = store_on(kube_api, kube_namespace)
    store.list_page = 2
    send = store.api.request
    continued: list[str] = []

    def slow(method: str, path: str, call: Any, **options: Any) -> Any:
        if "continue" in (options.get("query") or {}) and not continued:
            kube_api.kubectl("create", "configmap", "late", "-n", kube_namespace)  # a newer revision to compact to
            time.sleep(8)
            continued.append(path)
        return send(method, path, call, **options)

    store.api.request = slow  # type: ignore[method-assign]
    try:
        store.inform("", "ConfigMap")
        assert continued, "the list was not paginated"
        assert [o["metadata"]["name"] for o in store.list("", "ConfigMap")] == ["a", "b", "c", "late"]
    finally:
        store.close()
