"""``nodeDrainTimeout`` and ``nodeVolumeDetachTimeout``: how long CAPI drains a Node, and then waits for its volumes
to detach, before deleting its machine anyway, per class, control plane and pool, rendered into the ClusterClass's
``deletion`` and checked against the upstream CRDs."""

from __future__ import annotations

import copy
from typing import Any

from tests.render.providers.support import CLASS, compile_documents, default_cluster, one, provider, violations


def _class(**changes: Any) -> dict[str, Any]:
    cluster_class = copy.deepcopy(CLASS)
    for path, value in changes.items():
        *parents, leaf = path.split("__")
        node = cluster_class["spec"]
        for part in parents:
            node = node[part]
        node[leaf] = value
    return cluster_class


def test_the_class_s_drain_timeout_goes_to_the_control_plane_and_every_pool_unless_they_set_their_own() -> None:
    aws = provider("aws")
    cluster_class = _class(nodeDrainTimeout="20m", controlPlane__nodeDrainTimeout="1h")
    cluster_class["spec"]["workers"]["gpu"]["nodeDrainTimeout"] = "5m"

    rendered = compile_documents(aws, default_cluster(aws), cluster_class=cluster_class)
    spec = one(rendered, "ClusterClass")["spec"]

    assert spec["controlPlane"]["deletion"] == {"nodeDrainTimeoutSeconds": 3600}
    deletions = {d["class"]: d.get("deletion") for d in spec["workers"]["machineDeployments"]}
    assert deletions == {"general": {"nodeDrainTimeoutSeconds": 1200}, "gpu": {"nodeDrainTimeoutSeconds": 300}}
    assert violations(rendered.manifests()) == []


def test_without_a_drain_timeout_the_class_says_nothing_about_deletion() -> None:
    aws = provider("aws")
    spec = one(compile_documents(aws, default_cluster(aws), cluster_class=_class()), "ClusterClass")["spec"]

    assert "deletion" not in spec["controlPlane"]
    assert all("deletion" not in d for d in spec["workers"]["machineDeployments"])


def test_a_machine_pool_gets_its_drain_timeout_too() -> None:
    docker = {
        "apiVersion": "fleetc.io/v1alpha1",
        "kind": "Provider",
        "metadata": {"name": "docker"},
        "spec": {"type": "dev-docker"},
    }
    cluster_class = _class(nodeDrainTimeout="10m")
    cluster_class["spec"]["workers"]["burst"] = {"kind": "pool", "size": "large", "replicas": 2}
    cluster = {"apiVersion": "fleetc.io/v1alpha1", "kind": "Cluster", "metadata": {"name": "c1"},
               "spec": {"class": "standard", "provider": "docker"}}  # fmt: skip

    rendered = compile_documents(docker, cluster, cluster_class=cluster_class)
    (pool,) = one(rendered, "ClusterClass")["spec"]["workers"]["machinePools"]

    assert pool["deletion"] == {"nodeDrainTimeoutSeconds": 600}
    assert violations(rendered.manifests()) == []


def test_a_volume_detach_timeout_goes_beside_the_drain_timeout_with_the_same_precedence() -> None:
    aws = provider("aws")
    cluster_class = _class(nodeVolumeDetachTimeout="30m", nodeDrainTimeout="20m")
    cluster_class["spec"]["controlPlane"]["nodeVolumeDetachTimeout"] = "5m"
    cluster_class["spec"]["workers"]["gpu"]["nodeVolumeDetachTimeout"] = "2h"

    rendered = compile_documents(aws, default_cluster(aws), cluster_class=cluster_class)
    spec = one(rendered, "ClusterClass")["spec"]

    assert spec["controlPlane"]["deletion"] == {"nodeDrainTimeoutSeconds": 1200, "nodeVolumeDetachTimeoutSeconds": 300}
    deletions = {d["class"]: d.get("deletion") for d in spec["workers"]["machineDeployments"]}
    assert deletions == {
        "general": {"nodeDrainTimeoutSeconds": 1200, "nodeVolumeDetachTimeoutSeconds": 1800},
        "gpu": {"nodeDrainTimeoutSeconds": 1200, "nodeVolumeDetachTimeoutSeconds": 7200},
    }
    assert violations(rendered.manifests()) == []


def test_a_volume_detach_timeout_alone_is_the_only_deletion_field() -> None:
    aws = provider("aws")
    cluster_class = _class()
    cluster_class["spec"]["workers"]["gpu"]["nodeVolumeDetachTimeout"] = "10m"

    spec = one(compile_documents(aws, default_cluster(aws), cluster_class=cluster_class), "ClusterClass")["spec"]

    assert "deletion" not in spec["controlPlane"]
    deletions = {d["class"]: d.get("deletion") for d in spec["workers"]["machineDeployments"]}
    assert deletions == {"general": None, "gpu": {"nodeVolumeDetachTimeoutSeconds": 600}}


def test_a_node_deletion_timeout_goes_beside_the_others_with_the_same_precedence() -> None:
    aws = provider("aws")
    cluster_class = _class(nodeDeletionTimeout="1m")
    cluster_class["spec"]["workers"]["gpu"]["nodeDeletionTimeout"] = "5m"

    rendered = compile_documents(aws, default_cluster(aws), cluster_class=cluster_class)
    spec = one(rendered, "ClusterClass")["spec"]

    assert spec["controlPlane"]["deletion"] == {"nodeDeletionTimeoutSeconds": 60}
    deletions = {d["class"]: d.get("deletion") for d in spec["workers"]["machineDeployments"]}
    assert deletions == {"general": {"nodeDeletionTimeoutSeconds": 60}, "gpu": {"nodeDeletionTimeoutSeconds": 300}}
    assert violations(rendered.manifests()) == []


def test_a_cluster_s_own_timeouts_go_to_its_topology_and_leave_the_class_revision_alone() -> None:
    """A cluster overrides its class's timeouts field by field; CAPI merges the topology's ``deletion`` over the
    class's, so the cluster keeps its class revision (no other cluster is touched)."""
    aws = provider("aws")
    cluster_class = _class(nodeDrainTimeout="20m")
    plain = compile_documents(aws, default_cluster(aws), cluster_class=cluster_class)
    cluster = default_cluster(aws)
    cluster["spec"]["controlPlane"] = {"nodeDrainTimeout": "1h", "nodeDeletionTimeout": "30s"}
    cluster["spec"]["workers"] = {"gpu": {"nodeVolumeDetachTimeout": "15m"}}

    rendered = compile_documents(aws, cluster, cluster_class=cluster_class)
    topology = one(rendered, "Cluster")["spec"]["topology"]

    assert topology["controlPlane"]["deletion"] == {"nodeDrainTimeoutSeconds": 3600, "nodeDeletionTimeoutSeconds": 30}
    deletions = {d["class"]: d.get("deletion") for d in topology["workers"]["machineDeployments"]}
    assert deletions == {"general": None, "gpu": {"nodeVolumeDetachTimeoutSeconds": 900}}
    assert topology["classRef"] == one(plain, "Cluster")["spec"]["topology"]["classRef"]
    assert one(rendered, "ClusterClass") == one(plain, "ClusterClass")
    assert violations(rendered.manifests()) == []
