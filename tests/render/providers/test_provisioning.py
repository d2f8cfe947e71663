"""Provider settings that provision: what each cloud needs in its templates, after CAPI's patches.

AWS zones and SSH keys, versioned GCP images, per-cluster Azure NAT gateways, vSphere's zone selector, the
control plane's bounded remediation, node labels where the kubelet and CAPI take them, autoscaler bounds and
scale-from-zero capacity, and the fleet Cluster's annotations on the CAPI Cluster.
"""

from __future__ import annotations

import copy
import ipaddress
from typing import Any

from fleetc.contract.vocabulary import AUTOSCALER_MAX, AUTOSCALER_MIN
from fleetc.render.capacity import PREFIX as CAPACITY
from tests.render.providers.support import (
    CLASS,
    cluster,
    compile_documents,
    default_cluster,
    kubelet_args,
    one,
    patched,
    provider,
    render,
    template_spec,
)


def _deployments(rendered: Any, name: str = "c1") -> dict[str, Any]:
    topology = one(rendered, "Cluster", name)["spec"]["topology"]
    return {md["name"]: md for md in topology["workers"]["machineDeployments"]}


def _class(**workers: Any) -> dict[str, Any]:
    cluster_class = copy.deepcopy(CLASS)
    cluster_class["spec"]["workers"] = workers
    return cluster_class


# --- AWS ----------------------------------------------------------------------------------------------------------


def test_aws_failure_domains_become_a_public_and_a_private_subnet_in_each_zone() -> None:
    cluster_template = template_spec(one(render(provider("aws")), "AWSClusterTemplate"))

    subnets = cluster_template["network"]["subnets"]
    zones = {(s["availabilityZone"], s["isPublic"]) for s in subnets}
    assert zones == {(z, public) for z in ("eu-west-1a", "eu-west-1b") for public in (True, False)}
    vpc = ipaddress.IPv4Network(cluster_template["network"]["vpc"]["cidrBlock"])
    blocks = [ipaddress.IPv4Network(s["cidrBlock"]) for s in subnets]
    assert all(block.subnet_of(vpc) for block in blocks)
    assert not any(a.overlaps(b) for i, a in enumerate(blocks) for b in blocks[i + 1 :])
    assert not any(s["id"].startswith("subnet-") for s in subnets)  # placeholders: CAPA creates the subnets


def test_aws_without_failure_domains_leaves_the_zones_to_capa() -> None:
    cluster_template = template_spec(one(render(provider("aws", failureDomains=[])), "AWSClusterTemplate"))

    assert "network" not in cluster_template


def test_aws_without_an_ssh_key_sets_an_empty_key_name_everywhere() -> None:
    doc = provider("aws")
    del doc["spec"]["settings"]["sshKeyName"]

    rendered = render(doc)

    assert template_spec(one(rendered, "AWSClusterTemplate"))["sshKeyName"] == ""
    machines = [m for m in rendered.manifests() if m["kind"] == "AWSMachineTemplate"]
    assert {template_spec(m)["sshKeyName"] for m in machines} == {""}


# --- GCP ----------------------------------------------------------------------------------------------------------


def test_gcp_image_follows_each_machines_kubernetes_version_with_dashes() -> None:
    rendered = render(provider("gcp"), default_cluster(provider("gcp")), cluster("c2", "gcp", version="v1.35.0"))

    first = template_spec(patched(rendered, "c1", "GCPMachineTemplate", "-general"))["image"]
    second = template_spec(patched(rendered, "c2", "GCPMachineTemplate", "-control-plane"))["image"]

    assert first == "projects/acme-fleet/global/images/capi-ubuntu-2404-k8s-v1-34-2"
    assert second == "projects/acme-fleet/global/images/capi-ubuntu-2404-k8s-v1-35-0"


def test_gcp_pinned_image_has_no_version_patch() -> None:
    rendered = render(provider("gcp", settings={"image": "projects/acme/global/images/kube-v1-34-2"}))

    names = {p["name"] for p in one(rendered, "ClusterClass")["spec"]["patches"]}
    assert "gcpImageVersion" not in names


# --- Azure --------------------------------------------------------------------------------------------------------


def test_azure_nat_gateway_is_named_after_each_cluster() -> None:
    rendered = render(provider("azure"), default_cluster(provider("azure")), cluster("c2", "azure"))

    def nat_gateways(name: str) -> list[str]:
        subnets = patched(rendered, name, "AzureCluster")["spec"]["networkSpec"]["subnets"]
        return [s["natGateway"]["name"] for s in subnets if "natGateway" in s]

    assert nat_gateways("c1") == ["c1-node-natgw"]
    assert nat_gateways("c2") == ["c2-node-natgw"]


# --- vSphere ------------------------------------------------------------------------------------------------------


def test_vsphere_control_plane_goes_only_to_the_listed_deployment_zones() -> None:
    rendered = render(provider("vsphere", failureDomains=["zone-b", "zone-a"]))

    selector = template_spec(one(rendered, "VSphereClusterTemplate"))["failureDomainSelector"]

    assert selector == {
        "matchExpressions": [{"key": "fleetc.io/deployment-zone", "operator": "In", "values": ["zone-a", "zone-b"]}]
    }


# --- every provider -----------------------------------------------------------------------------------------------


def test_a_failing_control_plane_is_remediated_a_bounded_number_of_times() -> None:
    remediation = template_spec(one(render(provider("aws")), "KubeadmControlPlaneTemplate"))["remediation"]

    assert remediation["maxRetry"] > 0
    assert remediation["retryPeriodSeconds"] > 0


def test_cluster_annotations_reach_the_capi_cluster_beside_fleetcs_own() -> None:
    doc = default_cluster(provider("aws"))
    doc["metadata"]["annotations"] = {"team.example.com/owner": "payments"}

    annotations = one(render(provider("aws"), doc), "Cluster", "c1")["metadata"]["annotations"]

    assert annotations["team.example.com/owner"] == "payments"
    assert "fleetc.io/source" in annotations


def test_class_node_labels_and_the_pools_own_labels_are_both_kept() -> None:
    cluster_class = copy.deepcopy(CLASS)
    cluster_class["spec"]["kubeadm"]["kubelet"] = {"extraArgs": {"node-labels": "tier=platform"}}

    rendered = compile_documents(provider("aws"), default_cluster(provider("aws")), cluster_class=cluster_class)

    gpu = template_spec(one(rendered, "KubeadmConfigTemplate", "-gpu"))["joinConfiguration"]["nodeRegistration"]
    general = template_spec(one(rendered, "KubeadmConfigTemplate", "-general"))["joinConfiguration"]
    assert kubelet_args(gpu["kubeletExtraArgs"])["node-labels"] == "accelerator=nvidia,tier=platform"
    assert kubelet_args(general["nodeRegistration"]["kubeletExtraArgs"])["node-labels"] == "tier=platform"


def test_node_role_labels_go_to_the_machines_which_capi_copies_to_the_nodes() -> None:
    labels = {"node-role.kubernetes.io/gpu": "", "node.cluster.x-k8s.io/team": "ml", "accelerator": "nvidia"}
    cluster_class = _class(gpu={"size": "gpu", "replicas": 1, "nodeLabels": labels})

    rendered = compile_documents(provider("aws"), default_cluster(provider("aws")), cluster_class=cluster_class)

    registration = template_spec(one(rendered, "KubeadmConfigTemplate", "-gpu"))["joinConfiguration"]
    assert kubelet_args(registration["nodeRegistration"]["kubeletExtraArgs"])["node-labels"] == "accelerator=nvidia"
    (md_class,) = one(rendered, "ClusterClass")["spec"]["workers"]["machineDeployments"]
    assert md_class["metadata"]["labels"] == {"node-role.kubernetes.io/gpu": "", "node.cluster.x-k8s.io/team": "ml"}


def test_split_autoscaling_bounds_never_add_up_to_more_than_the_pools() -> None:
    cluster_class = _class(
        general={"size": "large", "autoscaling": {"min": 1, "max": 2}, "spreadAcrossFailureDomains": True}
    )
    doc = provider("azure")  # three zones

    rendered = compile_documents(doc, default_cluster(doc), cluster_class=cluster_class)

    annotations = [md["metadata"]["annotations"] for md in _deployments(rendered).values()]
    assert len(annotations) == 3
    assert sum(int(a[AUTOSCALER_MAX]) for a in annotations) == 2
    assert sum(int(a[AUTOSCALER_MIN]) for a in annotations) == 1
    assert all(int(a[AUTOSCALER_MIN]) <= int(a[AUTOSCALER_MAX]) for a in annotations)


def test_vsphere_autoscaled_pools_carry_their_machine_types_capacity() -> None:
    rendered = render(provider("vsphere"))

    gpu = _deployments(rendered)["gpu"]["metadata"]["annotations"]

    assert (gpu[f"{CAPACITY}/cpu"], gpu[f"{CAPACITY}/memory"]) == ("16", "131072Mi")
    assert "metadata" not in _deployments(rendered)["general"]  # fixed replicas: no autoscaler, no capacity


def test_gcp_autoscaled_pools_carry_the_capacity_the_provider_gives() -> None:
    gpu = _deployments(render(provider("gcp")))
    annotations = next(md for name, md in gpu.items() if name.startswith("gpu"))["metadata"]["annotations"]

    assert annotations[f"{CAPACITY}/cpu"] == "8"
    assert annotations[f"{CAPACITY}/memory"] == "32768Mi"
    assert annotations[f"{CAPACITY}/gpu-count"] == "1"


def test_aws_publishes_capacity_itself_so_fleetc_adds_none() -> None:
    gpu = _deployments(render(provider("aws")))["gpu"]["metadata"]["annotations"]

    assert not any(key.startswith(CAPACITY) for key in gpu)
