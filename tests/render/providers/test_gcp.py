"""CAPG: machine types, project/region/network, the credentials Secret, the external cloud provider."""

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


def test_sizes_become_machine_types() -> None:
    rendered = render(provider("gcp"))

    control_plane = template_spec(one(rendered, "GCPMachineTemplate", "-control-plane"))
    gpu = template_spec(one(rendered, "GCPMachineTemplate", "-gpu"))

    assert (control_plane["instanceType"], gpu["instanceType"]) == ("n2-standard-4", "g2-standard-8")


def test_a_pinned_image_lands_on_every_machine() -> None:
    image = "projects/acme-fleet/global/images/ubuntu-2404-kube-v1-34-2"

    rendered = render(provider("gcp", settings={"image": image}))

    assert {template_spec(m)["image"] for m in rendered.manifests() if m["kind"] == "GCPMachineTemplate"} == {image}


def test_cluster_template_carries_project_region_network_and_zones() -> None:
    cluster_template = template_spec(one(render(provider("gcp")), "GCPClusterTemplate"))

    assert cluster_template["project"] == "acme-fleet"
    assert cluster_template["region"] == "europe-west4"
    assert cluster_template["network"] == {"name": "fleet"}
    assert cluster_template["failureDomains"] == ["europe-west4-a", "europe-west4-b"]


def test_credentials_secret_with_a_namespace_is_written_into_the_template() -> None:
    ref = {"kind": "Secret", "name": "gcp-credentials", "namespace": "capg-system"}

    rendered = render(provider("gcp", credentialsRef=ref))

    credentials = {"name": "gcp-credentials", "namespace": "capg-system"}
    assert template_spec(one(rendered, "GCPClusterTemplate"))["credentialsRef"] == credentials
    assert "gcpCredentials" not in {p["name"] for p in one(rendered, "ClusterClass")["spec"]["patches"]}


def test_credentials_secret_without_a_namespace_is_read_from_the_clusters_namespace() -> None:
    rendered = render(provider("gcp"))

    assert "credentialsRef" not in template_spec(one(rendered, "GCPClusterTemplate"))
    assert patched(rendered, "c1", "GCPCluster")["spec"]["credentialsRef"] == {
        "name": "gcp-credentials",
        "namespace": "fleet-clusters",
    }


def test_without_credentials_ref_capg_uses_its_own_credentials() -> None:
    doc = provider("gcp")
    del doc["spec"]["credentialsRef"]

    rendered = render(doc)

    assert "credentialsRef" not in patched(rendered, "c1", "GCPCluster")["spec"]


def test_every_node_uses_the_external_cloud_provider_and_its_short_host_name() -> None:
    worker = template_spec(patched(render(provider("gcp")), "c1", "KubeadmConfigTemplate", "-general"))
    registration = worker["joinConfiguration"]["nodeRegistration"]

    assert kubelet_args(registration["kubeletExtraArgs"]) == {"cloud-provider": "external"}
    assert registration["name"] == '{{ ds.meta_data.local_hostname.split(".")[0] }}'


def test_credentials_ref_must_be_a_secret() -> None:
    errors = settings_errors(provider("gcp", credentialsRef={"kind": "GCPIdentity", "name": "x"}))

    assert [d.field for d in errors] == ["spec.credentialsRef.kind"]
