"""CAPO: flavors, the clouds.yaml identity, images by name and version, the kubelet's provider ID."""

from __future__ import annotations

import pytest

from tests.render.providers.support import (
    cluster,
    kubelet_args,
    one,
    patched,
    provider,
    render,
    settings_errors,
    template_spec,
)


def test_sizes_become_flavors_booting_the_image_by_name() -> None:
    rendered = render(provider("openstack"))

    control_plane = template_spec(one(rendered, "OpenStackMachineTemplate", "-control-plane"))
    general = template_spec(one(rendered, "OpenStackMachineTemplate", "-general"))

    assert (control_plane["flavor"], general["flavor"]) == ("m1.medium", "m1.large")
    assert general["sshKeyName"] == "platform"
    assert general["image"] == {"filter": {"name": "ubuntu-2404-kube-{version}"}}


def test_each_machine_boots_the_image_of_its_kubernetes_version() -> None:
    rendered = render(provider("openstack"), cluster("c1", "openstack", version="v1.35.0"))

    for suffix in ("-control-plane", "-general", "-gpu"):
        machine = template_spec(patched(rendered, "c1", "OpenStackMachineTemplate", suffix))
        assert machine["image"] == {"filter": {"name": "ubuntu-2404-kube-v1.35.0"}}


def test_an_image_without_a_version_is_used_as_is() -> None:
    rendered = render(provider("openstack", settings={"image": "ubuntu-2404-kube-v1.34.2"}))

    assert "openstackImageVersion" not in {p["name"] for p in one(rendered, "ClusterClass")["spec"]["patches"]}


@pytest.mark.parametrize(
    ("kind", "identity_type"), [("Secret", "Secret"), ("OpenStackClusterIdentity", "ClusterIdentity")]
)
def test_credentials_ref_becomes_the_identity_ref_with_the_cloud_name(kind: str, identity_type: str) -> None:
    doc = provider("openstack", credentialsRef={"kind": kind, "name": "cloud-config"})

    cluster_template = template_spec(one(render(doc), "OpenStackClusterTemplate"))

    assert cluster_template["identityRef"] == {"type": identity_type, "name": "cloud-config", "cloudName": "prod"}


def test_cluster_template_carries_network_load_balancer_and_zones() -> None:
    cluster_template = template_spec(one(render(provider("openstack")), "OpenStackClusterTemplate"))

    assert cluster_template["externalNetwork"] == {"id": "6c90b532-7ba0-418a-a276-5ae55060b5b0"}
    assert cluster_template["managedSubnets"] == [{"cidr": "10.6.0.0/24", "dnsNameservers": ["10.0.0.53"]}]
    assert cluster_template["apiServerLoadBalancer"] == {"enabled": True}
    assert cluster_template["controlPlaneAvailabilityZones"] == ["nova-a", "nova-b"]


def test_kubelets_register_with_the_instance_provider_id() -> None:
    rendered = render(provider("openstack"))

    kubeadm = template_spec(patched(rendered, "c1", "KubeadmControlPlaneTemplate"))["kubeadmConfigSpec"]
    registration = kubeadm["joinConfiguration"]["nodeRegistration"]

    assert kubelet_args(registration["kubeletExtraArgs"]) == {
        "cloud-provider": "external",
        "provider-id": "openstack:///{{ v1.instance_id }}",
    }
    assert registration["name"] == "{{ v1.local_hostname }}"


def test_credentials_ref_is_a_secret_or_cluster_identity_without_namespace() -> None:
    wrong_kind = provider("openstack", credentialsRef={"kind": "AzureClusterIdentity", "name": "x"})
    namespaced = provider("openstack", credentialsRef={"kind": "Secret", "name": "x", "namespace": "capo-system"})

    assert [d.field for d in settings_errors(wrong_kind)] == ["spec.credentialsRef.kind"]
    assert [d.field for d in settings_errors(namespaced)] == ["spec.credentialsRef.namespace"]
