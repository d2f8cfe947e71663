"""CAPZ: VM sizes, the AzureClusterIdentity reference, azure.json on every machine, the resource group."""

from __future__ import annotations

from tests.render.providers.support import (
    kubelet_args,
    one,
    patched,
    provider,
    render,
    settings_errors,
    template_spec,
)


def test_sizes_become_vm_sizes_on_linux_os_disks() -> None:
    rendered = render(provider("azure"))

    control_plane = template_spec(one(rendered, "AzureMachineTemplate", "-control-plane"))
    gpu = template_spec(one(rendered, "AzureMachineTemplate", "-gpu"))

    assert control_plane["vmSize"] == "Standard_D4s_v5"
    assert gpu["vmSize"] == "Standard_NC6s_v3"
    assert gpu["osDisk"] == {"osType": "Linux", "diskSizeGB": 128}


def test_credentials_ref_becomes_the_identity_ref() -> None:
    cluster = template_spec(one(render(provider("azure")), "AzureClusterTemplate"))

    assert cluster["identityRef"] == {
        "apiVersion": "infrastructure.cluster.x-k8s.io/v1beta1",
        "kind": "AzureClusterIdentity",
        "name": "fleet-identity",
        "namespace": "capz-system",
    }


def test_identity_without_namespace_is_looked_up_by_capz() -> None:
    doc = provider("azure", credentialsRef={"kind": "AzureClusterIdentity", "name": "fleet-identity"})

    assert "namespace" not in template_spec(one(render(doc), "AzureClusterTemplate"))["identityRef"]


def test_cluster_template_carries_location_subscription_subnets_and_zones() -> None:
    cluster = template_spec(one(render(provider("azure")), "AzureClusterTemplate"))

    assert cluster["location"] == "westeurope"
    assert cluster["subscriptionID"] == "00000000-0000-0000-0000-000000000000"
    assert [s["role"] for s in cluster["networkSpec"]["subnets"]] == ["control-plane", "node"]
    assert cluster["failureDomains"] == {zone: {"controlPlane": True} for zone in ("1", "2", "3")}


def test_every_machine_reads_azure_json_from_the_secret_capz_writes_for_its_template() -> None:
    rendered = render(provider("azure"))

    kubeadm = template_spec(patched(rendered, "c1", "KubeadmControlPlaneTemplate"))["kubeadmConfigSpec"]
    worker = template_spec(patched(rendered, "c1", "KubeadmConfigTemplate", "-gpu"))

    assert kubeadm["files"][0]["contentFrom"]["secret"] == {
        "key": "control-plane-azure.json",
        "name": "c1-control-plane-x7k2p-azure-json",
    }
    assert worker["files"][0]["contentFrom"]["secret"]["name"] == "c1-gpu-q8w3z-azure-json"
    assert {f["path"] for f in [*kubeadm["files"], *worker["files"]]} == {"/etc/kubernetes/azure.json"}
    registration = worker["joinConfiguration"]["nodeRegistration"]
    assert kubelet_args(registration["kubeletExtraArgs"])["cloud-provider"] == "external"
    assert registration["name"] == '{{ ds.meta_data["local_hostname"] }}'


def test_resource_group_reaches_the_azure_cluster_through_a_patch() -> None:
    with_group = render(provider("azure", settings={"resourceGroup": "fleet-westeurope"}))
    without = render(provider("azure"))

    assert patched(with_group, "c1", "AzureCluster")["spec"]["resourceGroup"] == "fleet-westeurope"
    assert "resourceGroup" not in patched(without, "c1", "AzureCluster")["spec"]


def test_credentials_ref_must_name_an_azure_cluster_identity() -> None:
    errors = settings_errors(provider("azure", credentialsRef={"kind": "Secret", "name": "x"}))

    assert [d.field for d in errors] == ["spec.credentialsRef.kind"]
