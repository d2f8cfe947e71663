"""CAPA: instance types, IAM instance profiles, the identity reference, the external cloud provider."""

from __future__ import annotations

import pytest

from tests.render.providers.support import (
    kubelet_args,
    one,
    patch_named,
    patched,
    provider,
    render,
    settings_errors,
    template_spec,
)


def test_sizes_become_instance_types_with_the_roles_iam_instance_profile() -> None:
    rendered = render(provider("aws"))

    control_plane = template_spec(one(rendered, "AWSMachineTemplate", "-control-plane"))
    general = template_spec(one(rendered, "AWSMachineTemplate", "-general"))
    gpu = template_spec(one(rendered, "AWSMachineTemplate", "-gpu"))

    assert control_plane["instanceType"] == "m6i.xlarge"
    assert control_plane["iamInstanceProfile"] == "control-plane.cluster-api-provider-aws.sigs.k8s.io"
    assert (general["instanceType"], gpu["instanceType"]) == ("m6i.2xlarge", "g5.2xlarge")
    assert general["iamInstanceProfile"] == gpu["iamInstanceProfile"] == "nodes.cluster-api-provider-aws.sigs.k8s.io"
    assert control_plane["sshKeyName"] == general["sshKeyName"] == "platform"
    assert "ami" not in general


def test_settings_override_the_instance_profiles_and_the_ami_lookup() -> None:
    settings = {
        "nodesIAMInstanceProfile": "fleet-nodes",
        "imageLookupFormat": "acme-{{.BaseOS}}-k8s-{{.K8sVersion}}-*",
        "imageLookupOrg": "123456789012",
        "imageLookupBaseOS": "ubuntu-24.04",
    }

    general = template_spec(one(render(provider("aws", settings=settings)), "AWSMachineTemplate", "-general"))

    assert general["iamInstanceProfile"] == "fleet-nodes"
    assert general["imageLookupFormat"] == "acme-{{.BaseOS}}-k8s-{{.K8sVersion}}-*"
    assert (general["imageLookupOrg"], general["imageLookupBaseOS"]) == ("123456789012", "ubuntu-24.04")
    assert "ami" not in general


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        ("AWSClusterRoleIdentity", "fleet-prod"),
        ("AWSClusterStaticIdentity", "static"),
        ("AWSClusterControllerIdentity", "default"),
    ],
)
def test_credentials_ref_becomes_the_identity_ref(kind: str, name: str) -> None:
    rendered = render(provider("aws", credentialsRef={"kind": kind, "name": name}))

    assert template_spec(one(rendered, "AWSClusterTemplate"))["identityRef"] == {"kind": kind, "name": name}


def test_without_credentials_ref_capa_uses_its_own_credentials() -> None:
    doc = provider("aws")
    del doc["spec"]["credentialsRef"]

    assert "identityRef" not in template_spec(one(render(doc), "AWSClusterTemplate"))


def test_cluster_template_carries_region_key_tags_and_an_nlb() -> None:
    cluster = template_spec(one(render(provider("aws")), "AWSClusterTemplate"))

    assert cluster["region"] == "eu-west-1"
    assert cluster["sshKeyName"] == "platform"
    assert cluster["additionalTags"] == {"cost-center": "platform"}
    assert cluster["controlPlaneLoadBalancer"] == {"loadBalancerType": "nlb", "healthCheckProtocol": "HTTPS"}


def test_every_node_uses_the_external_cloud_provider_and_its_ec2_host_name() -> None:
    rendered = render(provider("aws"))

    kubeadm = template_spec(patched(rendered, "c1", "KubeadmControlPlaneTemplate"))["kubeadmConfigSpec"]
    worker = template_spec(patched(rendered, "c1", "KubeadmConfigTemplate", "-general"))
    worker = worker["joinConfiguration"]["nodeRegistration"]

    for registration in (kubeadm["initConfiguration"]["nodeRegistration"], worker):
        assert kubelet_args(registration["kubeletExtraArgs"])["cloud-provider"] == "external"
        assert registration["name"] == "{{ ds.meta_data.local_hostname }}"
    assert patch_named(one(rendered, "ClusterClass"), "awsNodeName")


@pytest.mark.parametrize(
    ("credentials", "field", "fragment"),
    [
        ({"kind": "Secret", "name": "x"}, "spec.credentialsRef.kind", "AWSClusterRoleIdentity"),
        (
            {"kind": "AWSClusterRoleIdentity", "name": "x", "namespace": "capa-system"},
            "spec.credentialsRef.namespace",
            "cluster-scoped",
        ),
        ({"kind": "AWSClusterControllerIdentity", "name": "mine"}, "spec.credentialsRef", "named 'default'"),
    ],
)
def test_credentials_ref_must_name_a_capa_identity(credentials: dict[str, str], field: str, fragment: str) -> None:
    errors = settings_errors(provider("aws", credentialsRef=credentials))

    assert [(d.field, fragment in d.message) for d in errors] == [(field, True)]
