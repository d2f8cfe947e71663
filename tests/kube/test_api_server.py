"""The test API server is a real one: kubectl and the ``kubernetes`` client share it, CRD schemas and RBAC are enforced.

These run against the ``kube_api`` fixture (etcd + kube-apiserver v1.36 built from pinned Go modules, CAPI v1.14.0's
CRDs installed).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, cast

import pytest
import yaml
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from tests.upstream.apiserver import KubeApi, KubectlError

pytestmark = pytest.mark.kube

GROUP, VERSION = "cluster.x-k8s.io", "v1beta2"


def cluster(name: str, namespace: str, **spec: Any) -> dict[str, Any]:
    """A CAPI v1beta2 Cluster using a ClusterClass."""
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "Cluster",
        "metadata": {"name": name, "namespace": namespace, "labels": {"fleetc.io/ring": "canary"}},
        "spec": {"topology": {"classRef": {"name": "standard"}, "version": "v1.35.0"}, **spec},
    }


@pytest.fixture
def api_client(kube_api: KubeApi) -> Iterator[client.ApiClient]:
    """The Python client configured from the fixture's kubeconfig and context."""
    api = config.new_client_from_config(config_file=str(kube_api.kubeconfig), context=kube_api.context)
    yield api
    api.close()


def test_kubectl_applies_a_cluster_that_the_python_client_reads_back(
    kube_api: KubeApi, kube_namespace: str, api_client: client.ApiClient
) -> None:
    kube_api.kubectl("apply", "--server-side", "-f", "-", input=yaml.safe_dump(cluster("eu-1", kube_namespace)))

    found = cast(
        "dict[str, Any]",
        client.CustomObjectsApi(api_client).get_namespaced_custom_object(
            GROUP, VERSION, kube_namespace, "clusters", "eu-1"
        ),
    )

    assert found["spec"]["topology"] == {"classRef": {"name": "standard"}, "version": "v1.35.0"}
    assert found["metadata"]["labels"] == {"fleetc.io/ring": "canary"}
    assert found["metadata"]["uid"] and found["metadata"]["resourceVersion"]
    managers = {entry["manager"] for entry in found["metadata"]["managedFields"]}
    assert managers == {"kubectl"}


def test_an_unknown_field_is_rejected_by_the_real_crd_schema(kube_api: KubeApi, kube_namespace: str) -> None:
    document = cluster("eu-2", kube_namespace)
    document["spec"]["topology"]["versoin"] = "v1.35.0"

    with pytest.raises(KubectlError) as failure:
        kube_api.kubectl("apply", "--server-side", "-f", "-", input=yaml.safe_dump(document))

    assert ".spec.topology.versoin: field not declared in schema" in failure.value.stderr
    assert kube_api.kubectl("get", "clusters", "-n", kube_namespace, "-o", "name").stdout == ""


def test_a_value_out_of_range_is_rejected_by_the_real_crd_schema(
    kube_namespace: str, api_client: client.ApiClient
) -> None:
    document = cluster("eu-3", kube_namespace, controlPlaneEndpoint={"host": "10.0.0.1", "port": 70000})

    with pytest.raises(ApiException) as failure:
        client.CustomObjectsApi(api_client).create_namespaced_custom_object(
            GROUP, VERSION, kube_namespace, "clusters", document
        )

    assert failure.value.status == 422
    causes = json.loads(failure.value.body or "{}")["details"]["causes"]
    assert [cause["field"] for cause in causes] == ["spec.controlPlaneEndpoint.port"]
    assert "less than or equal to 65535" in causes[0]["message"]


def test_rbac_is_enforced_for_a_service_account_without_roles(kube_api: KubeApi, kube_namespace: str) -> None:
    nobody = f"system:serviceaccount:{kube_namespace}:nobody"

    admin = kube_api.kubectl("auth", "can-i", "create", "clusters.cluster.x-k8s.io", "-n", kube_namespace)
    denied = kube_api.kubectl("auth", "can-i", "get", "clusters.cluster.x-k8s.io", "-n", kube_namespace, "--as", nobody,
                              check=False)  # fmt: skip
    listing = kube_api.kubectl("get", "clusters", "-n", kube_namespace, "--as", nobody, check=False)

    assert admin.stdout.strip() == "yes"
    assert denied.stdout.strip() == "no" and denied.returncode == 1
    assert listing.returncode != 0 and "Forbidden" in listing.stderr


def test_capi_and_in_memory_provider_kinds_are_served(kube_api: KubeApi) -> None:
    resources = kube_api.kubectl("api-resources", "-o", "name").stdout.split()

    for name in ("clusters", "machines", "machinedeployments", "machinehealthchecks", "clusterclasses"):
        assert f"{name}.cluster.x-k8s.io" in resources
    assert "kubeadmcontrolplanes.controlplane.cluster.x-k8s.io" in resources
    assert "kubeadmconfigtemplates.bootstrap.cluster.x-k8s.io" in resources
    for name in ("devclusters", "devmachines", "devmachinetemplates", "dockerclusters"):
        assert f"{name}.infrastructure.cluster.x-k8s.io" in resources
