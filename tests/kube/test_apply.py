"""Server-side apply through the Kubernetes store: what it reports, whose fields it takes, and status writes."""

from __future__ import annotations

import pytest

from fleetc.core.errors import FieldConflict, NotFound
from fleetc.core.keys import ObjectKey
from tests.kube.support import CAPI, KubeApi, cluster, config_map, store_on


def test_apply_reports_created_then_unchanged_then_updated_one_request_each(
    kube_api: KubeApi, kube_namespace: str
) -> None:
    store = store_on(kube_api, kube_namespace)
    try:
        store.inform("", "ConfigMap")  # unchanged is told from the cached resourceVersion
        results = []
        for value in ("1", "1", "2"):
            sent = store.api.sent
            results.append(store.apply(config_map(kube_namespace, x=value)))
            assert store.api.sent == sent + 1  # the PATCH alone: no GET before it
        assert results == ["created", "unchanged", "updated"]
        live = store.read(ObjectKey("", "ConfigMap", kube_namespace, "a"))
        assert live["data"] == {"x": "2"}
        assert [(e["manager"], e["operation"]) for e in live["metadata"]["managedFields"]] == [("fleetc", "Apply")]
    finally:
        store.close()


def test_apply_of_a_kind_not_informed_cannot_tell_unchanged_and_reads_updated(
    kube_api: KubeApi, kube_namespace: str
) -> None:
    store = store_on(kube_api, kube_namespace)
    try:
        assert store.apply(config_map(kube_namespace, x="1")) == "created"
        assert store.apply(config_map(kube_namespace, x="1")) == "updated"
        assert store.kinds() == []  # apply starts no informer
    finally:
        store.close()


def test_a_dry_run_apply_stores_nothing_and_tells_created_from_updated(kube_api: KubeApi, kube_namespace: str) -> None:
    store = store_on(kube_api, kube_namespace)
    key = ObjectKey("", "ConfigMap", kube_namespace, "a")
    try:
        store.inform("", "ConfigMap")
        assert store.apply(config_map(kube_namespace, x="1"), dry_run=True) == "created"
        assert store.find(key) is None
        with pytest.raises(NotFound):
            store.read(key)
        store.apply(config_map(kube_namespace, x="1"))
        assert store.apply(config_map(kube_namespace, x="2"), dry_run=True) == "updated"
        assert store.read(key)["data"] == {"x": "1"}
        assert store.get(key)["data"] == {"x": "1"}
    finally:
        store.close()


def test_a_conflict_names_the_other_manager_and_the_field_and_force_takes_over(
    kube_api: KubeApi, kube_namespace: str
) -> None:
    kube_api.kubectl(
        "apply",
        "--server-side",
        "--field-manager",
        "other",
        "-f",
        "-",
        input=f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: a, namespace: {kube_namespace}}}\n"
        "data: {owner: other}\n",
    )
    store = store_on(kube_api, kube_namespace)
    try:
        with pytest.raises(FieldConflict) as raised:
            store.apply(config_map(kube_namespace, owner="fleetc"))
        assert raised.value.conflicts == [("other", ".data.owner")]
        assert "'other'" in str(raised.value) and ".data.owner" in str(raised.value)
        assert "--force-conflicts" in str(raised.value)
        assert store.apply(config_map(kube_namespace, owner="fleetc"), force=True) == "updated"
        live = store.read(ObjectKey("", "ConfigMap", kube_namespace, "a"))
        assert live["data"] == {"owner": "fleetc"}
        owners = {e["manager"]: e.get("fieldsV1", {}) for e in live["metadata"]["managedFields"]}
        assert "f:owner" in owners["fleetc"]["f:data"]
        assert "f:owner" not in owners.get("other", {}).get("f:data", {})
    finally:
        store.close()


def test_status_is_written_through_the_status_subresource_only(kube_api: KubeApi, kube_namespace: str) -> None:
    store = store_on(kube_api, kube_namespace)
    try:
        created = store.create(cluster(kube_namespace, paused=True))
        ignored = store.update({**created, "status": {"phase": "Provisioned"}})
        assert "phase" not in ignored.get("status", {})
        written = store.update_status({**ignored, "status": {"phase": "Provisioned"}})
        assert written["status"]["phase"] == "Provisioned"
        assert written["metadata"]["generation"] == created["metadata"]["generation"]
        live = store.read(ObjectKey(CAPI, "Cluster", kube_namespace, "c1"))
        assert live["status"]["phase"] == "Provisioned"
    finally:
        store.close()
