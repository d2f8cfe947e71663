"""Failures the Kubernetes store turns into actionable errors, or survives: stale writes, RBAC denials, no server."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import yaml

from fleetc.core.errors import Conflict, NamespaceTerminating
from fleetc.core.keys import ObjectKey
from fleetc.runtime.kube import ForbiddenError, TargetUnreachableError, connect
from tests.kube.support import KubeApi, config_map, store_on
from tests.upstream.plugin import namespace_name


def test_a_stale_resource_version_conflicts_and_edit_retries_by_re_reading(
    kube_api: KubeApi, kube_namespace: str
) -> None:
    store = store_on(kube_api, kube_namespace)
    key = ObjectKey("", "ConfigMap", kube_namespace, "a")
    try:
        store.inform("", "ConfigMap")  # reads come from the informer's cache from now on
        created = store.create(config_map(kube_namespace, mine="1"))
        kube_api.kubectl("patch", "configmap", "a", "-n", kube_namespace, "--type=merge", "-p", '{"data":{"x":"1"}}')
        with pytest.raises(Conflict):
            store.update({**created, "data": {"mine": "2"}})
        kube_api.kubectl("patch", "configmap", "a", "-n", kube_namespace, "--type=merge", "-p", '{"data":{"y":"1"}}')
        # No events were delivered since (no wait): the cached copy the edit starts from is stale.
        edited = store.edit(key, lambda obj: obj["data"].__setitem__("mine", "3"))
        assert store.conflict_retries == 1
        assert edited["data"] == {"mine": "3", "x": "1", "y": "1"}
        assert store.read(key)["data"] == {"mine": "3", "x": "1", "y": "1"}
    finally:
        store.close()


def test_a_write_into_a_namespace_being_deleted_says_so_and_asks_for_no_rbac_rule(kube_api: KubeApi) -> None:
    namespace = namespace_name("terminating")
    kube_api.kubectl("create", "namespace", namespace)
    held = {**config_map(namespace, "held"), "metadata": {"name": "held", "namespace": namespace, "finalizers": [HOLD]}}
    store = store_on(kube_api, namespace)
    try:
        store.create(held)  # keeps the namespace Terminating whoever finalises namespaces
        kube_api.kubectl("delete", "namespace", namespace, "--wait=false")
        with pytest.raises(NamespaceTerminating) as raised:
            store.create(config_map(namespace, "late"))
        message = str(raised.value)
        assert f'namespace "{namespace}" is being deleted' in message
        assert "forbidden" not in message.lower() and "RBAC" not in message
    finally:
        store.close()
        kube_api.kubectl(
            "patch", "configmap", "held", "-n", namespace, "--type=merge", "-p", '{"metadata":{"finalizers":null}}'
        )


HOLD = "fleetc.io/test-hold"


def test_a_denied_request_names_verb_resource_namespace_and_the_missing_rule(
    kube_api: KubeApi, kube_namespace: str
) -> None:
    user = f"system:serviceaccount:{kube_namespace}:nobody"
    store = connect(kube_api.kubeconfig, kube_api.context, namespace=kube_namespace, impersonate=user)
    try:
        with pytest.raises(ForbiddenError) as raised:
            store.create(config_map(kube_namespace))
        denied = raised.value
        assert (denied.verb, denied.group, denied.resource, denied.namespace) == (
            "create",
            "",
            "configmaps",
            kube_namespace,
        )
        message = str(denied)
        assert f'cannot create "configmaps" in namespace "{kube_namespace}"' in message
        assert user in message and denied.rule in message
        # The rule as printed is what the user lacks: granting it makes the same request pass.
        role = {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": "fix", "namespace": kube_namespace},
            "rules": yaml.safe_load(denied.rule),
        }
        kube_api.kubectl("apply", "-f", "-", input=yaml.safe_dump(role))
        kube_api.kubectl("create", "rolebinding", "fix", "--role=fix", f"--user={user}", "-n", kube_namespace)
        assert store.create(config_map(kube_namespace))["metadata"]["name"] == "a"
    finally:
        store.close()


def test_a_denied_status_write_names_the_subresource(kube_api: KubeApi, kube_namespace: str) -> None:
    kube_api.kubectl("create", "configmap", "a", "-n", kube_namespace)
    user = f"system:serviceaccount:{kube_namespace}:nobody"
    store = connect(kube_api.kubeconfig, kube_api.context, namespace=kube_namespace, impersonate=user)
    try:
        with pytest.raises(ForbiddenError) as raised:
            store.update_status({**config_map(kube_namespace), "status": {}})
        assert (raised.value.verb, raised.value.resource) == ("update", "configmaps/status")
    finally:
        store.close()


def test_an_unreachable_server_is_exit_code_4_and_names_the_url(
    kube_api: KubeApi, kube_namespace: str, tmp_path: Path
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    closed = f"https://127.0.0.1:{port}"
    config = yaml.safe_load(Path(kube_api.kubeconfig).read_text())
    for entry in config["clusters"]:
        entry["cluster"]["server"] = closed
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(config))
    store = connect(path, kube_api.context, namespace=kube_namespace, retries=1)
    with pytest.raises(TargetUnreachableError) as raised:
        store.list("", "ConfigMap")
    assert raised.value.exit_code == 4
    assert raised.value.server == closed
    assert closed in str(raised.value) and "refused" in str(raised.value).lower()
