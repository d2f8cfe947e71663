"""Worker pools of ``kind: pool``: CAPI MachinePool classes and topologies, checked against the upstream CRDs."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from fleetc.render.providers.registry import provider_for
from fleetc.schema.pools import supports_machine_pools
from fleetc.schema.provider import PROVIDER_TYPES
from tests.builders import FleetBuilder, cluster_doc, position
from tests.render.providers.support import CLASS, compile_documents, one, violations

DOCKER: dict[str, Any] = {
    "apiVersion": "fleetc.io/v1alpha1",
    "kind": "Provider",
    "metadata": {"name": "docker"},
    "spec": {"type": "dev-docker", "failureDomains": ["fd-a", "fd-b"]},
}


def pooled_class(**pool: Any) -> dict[str, Any]:
    """The test class with a MachineDeployment pool ``general`` and a machine pool ``burst``."""
    cluster_class = copy.deepcopy(CLASS)
    cluster_class["spec"]["workers"]["burst"] = {"kind": "pool", "size": "large", "replicas": 4, **pool}
    return cluster_class


def docker_cluster(**spec: Any) -> dict[str, Any]:
    """Cluster ``c1`` of class ``standard`` on the dev-docker provider."""
    return {
        "apiVersion": "fleetc.io/v1alpha1",
        "kind": "Cluster",
        "metadata": {"name": "c1"},
        "spec": {"class": "standard", "provider": "docker", **spec},
    }


def test_a_machine_pool_compiles_to_a_machine_pool_class_with_the_providers_pool_template() -> None:
    rendered = compile_documents(DOCKER, docker_cluster(), cluster_class=pooled_class())
    cluster_class = one(rendered, "ClusterClass")
    workers = cluster_class["spec"]["workers"]
    revision = cluster_class["metadata"]["name"]

    (pool_class,) = workers["machinePools"]
    assert pool_class["class"] == "burst"
    assert pool_class["infrastructure"]["templateRef"]["kind"] == "DevMachinePoolTemplate"
    assert pool_class["bootstrap"]["templateRef"] == {
        "apiVersion": "bootstrap.cluster.x-k8s.io/v1beta2",
        "kind": "KubeadmConfigTemplate",
        "name": f"{revision}-burst",
    }
    assert [d["class"] for d in workers["machineDeployments"]] == ["general", "gpu"]
    assert one(rendered, "DevMachinePoolTemplate", "-burst")["metadata"]["name"] == f"{revision}-burst"
    assert one(rendered, "KubeadmConfigTemplate", "-burst")


def test_the_cluster_topology_lists_the_machine_pool_with_its_replicas_and_failure_domains() -> None:
    rendered = compile_documents(
        DOCKER, docker_cluster(), cluster_class=pooled_class(spreadAcrossFailureDomains=True, nodeLabels={"a": "b"})
    )
    topology = one(rendered, "Cluster")["spec"]["topology"]

    assert topology["workers"]["machinePools"] == [
        {"class": "burst", "name": "burst", "replicas": 4, "failureDomains": ["fd-a", "fd-b"]}
    ]
    assert [md["class"] for md in topology["workers"]["machineDeployments"]] == ["general", "gpu"]


def test_a_cluster_override_pins_the_pool_to_one_failure_domain_and_autoscaling_becomes_annotations() -> None:
    cluster = docker_cluster(workers={"burst": {"autoscaling": {"min": 1, "max": 5}, "failureDomain": "fd-b"}})
    rendered = compile_documents(DOCKER, cluster, cluster_class=pooled_class())
    (pool,) = one(rendered, "Cluster")["spec"]["topology"]["workers"]["machinePools"]

    assert pool["failureDomains"] == ["fd-b"]
    assert "replicas" not in pool
    assert pool["metadata"]["annotations"] == {
        "cluster.x-k8s.io/cluster-api-autoscaler-node-group-max-size": "5",
        "cluster.x-k8s.io/cluster-api-autoscaler-node-group-min-size": "1",
    }


def test_every_rendered_object_of_a_pooled_cluster_passes_the_upstream_crds() -> None:
    cluster = docker_cluster(workers={"burst": {"autoscaling": {"min": 1, "max": 5}}})
    rendered = compile_documents(DOCKER, cluster, cluster_class=pooled_class(spreadAcrossFailureDomains=True))

    assert {m["kind"] for m in rendered.manifests()} >= {"DevMachinePoolTemplate", "ClusterClass", "Cluster"}
    assert violations(rendered.manifests()) == []


def test_a_variable_patch_on_a_machine_pool_selects_its_machine_pool_class() -> None:
    cluster_class = pooled_class()
    cluster_class["spec"]["variables"] = {
        "maxPods": {
            "type": "string",
            "default": "",
            "patches": [{"template": "workerBootstrap", "path": "/joinConfiguration/nodeRegistration/name"}],
        }
    }
    rendered = compile_documents(DOCKER, docker_cluster(), cluster_class=cluster_class)
    (patch,) = one(rendered, "ClusterClass")["spec"]["patches"]
    selected = [d["selector"]["matchResources"] for d in patch["definitions"]]

    assert {"machinePoolClass": {"names": ["burst"]}} in selected
    assert {"machineDeploymentClass": {"names": ["general"]}} in selected
    assert violations([one(rendered, "ClusterClass")]) == []


@pytest.mark.parametrize("provider_type", PROVIDER_TYPES)
def test_the_render_side_has_a_pool_template_exactly_where_validation_allows_machine_pools(provider_type: str) -> None:
    has_template = provider_for(provider_type).kinds.machine_pool_template is not None

    assert has_template == supports_machine_pools(provider_type)


def test_a_machine_pool_on_a_provider_without_pool_templates_is_a_located_error() -> None:
    pool = {"kind": "pool", "size": "large", "replicas": 2}
    fleet = FleetBuilder.minimal().set("ClusterClass", "standard", "spec.workers.burst", pool)
    result = fleet.validate()

    errors = [d for d in result.diagnostics if "machine pool" in d.message]
    assert {(d.location.path, d.field) for d in errors} == {("fleet/clusters.yaml", "spec.provider")}
    assert len(errors) == 2  # eu-1 and eu-2, both on aws-eu
    assert "no AWSMachinePoolTemplate" in errors[0].message
    line, _ = position(fleet.text("clusters.yaml"), "provider: aws-eu")
    assert errors[0].location.line == line


def test_a_machine_pool_with_a_health_check_is_a_located_error() -> None:
    pool = {"kind": "pool", "size": "large", "replicas": 2, "healthCheck": {"nodeStartupTimeout": "10m"}}
    fleet = FleetBuilder.minimal().set("ClusterClass", "standard", "spec.workers.burst", pool)
    fleet.files["clusters.yaml"] = [cluster_doc("d-1", ring="canary", provider="docker")]
    fleet.add("providers.yaml", DOCKER)
    result = fleet.validate()

    (error,) = [d for d in result.diagnostics if d.severity == "error"]
    assert error.field == "spec.workers.burst.healthCheck"
    assert error.location.path == "fleet/classes.yaml"
