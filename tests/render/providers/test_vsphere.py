"""CAPV: the per-cluster control-plane endpoint, kube-vip, machine types, the identity, versioned templates."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.render.providers.support import (
    cluster,
    kubelet_args,
    one,
    patch_named,
    patched,
    provider,
    render,
    settings_errors,
    template_spec,
)


def _endpoint_cluster(name: str = "store-1", host: str = "10.20.1.10", **endpoint: int) -> dict[str, Any]:
    return cluster(name, "vsphere", controlPlaneEndpoint={"host": host, **endpoint})


def _kube_vip_env(kubeadm: dict[str, Any]) -> dict[str, str]:
    files = {f["path"]: f for f in kubeadm["files"]}
    pod = yaml.safe_load(files["/etc/kubernetes/manifests/kube-vip.yaml"]["content"])
    return {e["name"]: e["value"] for e in pod["spec"]["containers"][0]["env"]}


def test_the_endpoint_reaches_the_clusters_variables() -> None:
    rendered = render(provider("vsphere"), _endpoint_cluster(port=7443))

    variables = one(rendered, "Cluster", "store-1")["spec"]["topology"]["variables"]

    assert {"name": "controlPlaneEndpoint", "value": {"host": "10.20.1.10", "port": 7443}} in variables


def test_the_endpoint_port_defaults_to_6443() -> None:
    variables = one(render(provider("vsphere"), _endpoint_cluster()), "Cluster")["spec"]["topology"]["variables"]

    assert variables == [{"name": "controlPlaneEndpoint", "value": {"host": "10.20.1.10", "port": 6443}}]


def test_the_class_declares_the_endpoint_variable_and_patches_it_into_the_vsphere_cluster() -> None:
    cluster_class = one(render(provider("vsphere"), _endpoint_cluster()), "ClusterClass")

    variable = next(v for v in cluster_class["spec"]["variables"] if v["name"] == "controlPlaneEndpoint")
    definition = patch_named(cluster_class, "controlPlaneEndpoint")["definitions"][0]

    assert variable["required"] is True
    assert variable["schema"]["openAPIV3Schema"]["required"] == ["host", "port"]
    assert definition["selector"] == {
        "apiVersion": "infrastructure.cluster.x-k8s.io/v1beta2",
        "kind": "VSphereClusterTemplate",
        "matchResources": {"infrastructureCluster": True},
    }
    assert definition["jsonPatches"] == [
        {
            "op": "add",
            "path": "/spec/template/spec/controlPlaneEndpoint",
            "valueFrom": {"variable": "controlPlaneEndpoint"},
        }
    ]


def test_after_the_patches_the_vsphere_cluster_has_the_endpoint_and_kube_vip_holds_it() -> None:
    rendered = render(provider("vsphere"), _endpoint_cluster(port=7443))

    vsphere_cluster = patched(rendered, "store-1", "VSphereCluster")
    kubeadm = template_spec(patched(rendered, "store-1", "KubeadmControlPlaneTemplate"))["kubeadmConfigSpec"]

    assert vsphere_cluster["spec"]["controlPlaneEndpoint"] == {"host": "10.20.1.10", "port": 7443}
    assert _kube_vip_env(kubeadm)["address"] == "10.20.1.10"
    assert _kube_vip_env(kubeadm)["port"] == "7443"
    assert kubeadm["initConfiguration"]["localAPIEndpoint"] == {"bindPort": 7443}
    assert kubeadm["joinConfiguration"]["controlPlane"] == {"localAPIEndpoint": {"bindPort": 7443}}
    assert "/etc/pre-kubeadm-commands/50-kube-vip-prepare.sh" in {f["path"] for f in kubeadm["files"]}
    assert any("/etc/pre-kubeadm-commands/" in c for c in kubeadm["preKubeadmCommands"])


def test_kube_vip_can_be_left_to_an_external_load_balancer() -> None:
    rendered = render(provider("vsphere", settings={"kubeVip": False}), _endpoint_cluster())

    kubeadm = template_spec(patched(rendered, "store-1", "KubeadmControlPlaneTemplate"))["kubeadmConfigSpec"]

    assert "kubeVip" not in {p["name"] for p in one(rendered, "ClusterClass")["spec"]["patches"]}
    assert "files" not in kubeadm
    assert patched(rendered, "store-1", "VSphereCluster")["spec"]["controlPlaneEndpoint"]["host"] == "10.20.1.10"


def test_two_clusters_share_the_class_and_differ_only_in_their_variables() -> None:
    rendered = render(provider("vsphere"), _endpoint_cluster("store-1"), _endpoint_cluster("store-2", "10.20.2.10"))

    first = patched(rendered, "store-1", "VSphereCluster")["spec"]["controlPlaneEndpoint"]
    second = patched(rendered, "store-2", "VSphereCluster")["spec"]["controlPlaneEndpoint"]

    assert len([m for m in rendered.manifests() if m["kind"] == "ClusterClass"]) == 1
    assert (first["host"], second["host"]) == ("10.20.1.10", "10.20.2.10")


def test_sizes_map_to_machine_types_built_in_or_from_the_settings() -> None:
    rendered = render(provider("vsphere"), _endpoint_cluster())

    medium = template_spec(one(rendered, "VSphereMachineTemplate", "-control-plane"))
    large = template_spec(one(rendered, "VSphereMachineTemplate", "-general"))
    gpu = template_spec(one(rendered, "VSphereMachineTemplate", "-gpu"))

    assert (medium["numCPUs"], medium["memoryMiB"], medium["diskGiB"]) == (4, 16384, 50)
    assert (large["numCPUs"], large["memoryMiB"], large["diskGiB"]) == (8, 32768, 100)
    assert (gpu["numCPUs"], gpu["memoryMiB"], gpu["diskGiB"]) == (16, 131072, 200)


def test_machines_are_cloned_in_the_providers_vcenter_placement() -> None:
    machine = template_spec(one(render(provider("vsphere"), _endpoint_cluster()), "VSphereMachineTemplate", "-general"))

    assert machine["server"] == "vcenter.dc1.example.com"
    assert machine["thumbprint"].startswith("01:02:03")
    assert (machine["datacenter"], machine["datastore"]) == ("DC1", "vsanDatastore")
    assert (machine["folder"], machine["resourcePool"]) == ("fleet", "fleet")
    assert machine["network"] == {"devices": [{"networkName": "VM Network", "dhcp4": True}]}


@pytest.mark.parametrize("kind", ["VSphereClusterIdentity", "Secret"])
def test_credentials_ref_becomes_the_identity_ref(kind: str) -> None:
    doc = provider("vsphere", credentialsRef={"kind": kind, "name": "dc1"})

    cluster_template = template_spec(one(render(doc, _endpoint_cluster()), "VSphereClusterTemplate"))

    assert cluster_template["identityRef"] == {"kind": kind, "name": "dc1"}
    assert cluster_template["server"] == "vcenter.dc1.example.com"


def test_the_template_follows_each_machines_kubernetes_version() -> None:
    store = _endpoint_cluster()
    store["spec"]["version"] = "v1.35.0"
    rendered = render(provider("vsphere"), store)

    control_plane = template_spec(patched(rendered, "store-1", "VSphereMachineTemplate", "-control-plane"))
    worker = template_spec(patched(rendered, "store-1", "VSphereMachineTemplate", "-general"))

    assert control_plane["template"] == worker["template"] == "ubuntu-2404-kube-v1.35.0"


def test_a_template_without_a_version_is_used_as_is() -> None:
    rendered = render(provider("vsphere", settings={"template": "ubuntu-2404"}), _endpoint_cluster())

    assert "vsphereTemplateVersion" not in {p["name"] for p in one(rendered, "ClusterClass")["spec"]["patches"]}
    assert template_spec(one(rendered, "VSphereMachineTemplate", "-general"))["template"] == "ubuntu-2404"


def test_nodes_use_the_external_cloud_provider_and_the_ssh_keys() -> None:
    rendered = render(provider("vsphere"), _endpoint_cluster())

    worker = template_spec(patched(rendered, "store-1", "KubeadmConfigTemplate", "-general"))

    assert kubelet_args(worker["joinConfiguration"]["nodeRegistration"]["kubeletExtraArgs"]) == {
        "cloud-provider": "external"
    }
    assert worker["joinConfiguration"]["nodeRegistration"]["name"] == "{{ local_hostname }}"
    assert worker["users"][0]["name"] == "capv"
    assert worker["users"][0]["sshAuthorizedKeys"] == ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample platform"]


def test_sizes_must_map_to_known_machine_types() -> None:
    errors = settings_errors(provider("vsphere", sizes={"medium": "huge"}))

    assert len(errors) == 1
    assert "unknown vSphere machine types: huge" in errors[0].message


def test_credentials_ref_has_no_namespace() -> None:
    ref = {"kind": "Secret", "name": "dc1", "namespace": "capv-system"}

    assert [d.field for d in settings_errors(provider("vsphere", credentialsRef=ref))] == [
        "spec.credentialsRef.namespace"
    ]
