"""kubeadm values that would break a machine's cloud-init are errors at the line that sets them.

Flag names with leading dashes, Jinja markers (cloud-init reads CAPI's bootstrap data as a Jinja template),
and Node labels the kubelet refuses.
"""

from __future__ import annotations

import pytest

from tests.builders import FleetBuilder, assert_valid, at, only, position


def test_an_extra_arg_name_with_leading_dashes_is_an_error_at_the_name() -> None:
    fleet = FleetBuilder.minimal().set("ClusterClass", "standard", "spec.kubeadm.apiServer.extraArgs", {"--v": "2"})

    diagnostic = only(fleet.validate(), field="spec.kubeadm.apiServer.extraArgs.--v")

    assert "give the flag name without dashes ('v')" in diagnostic.message
    assert at(diagnostic) == ("fleet/classes.yaml", *position(fleet.text("classes.yaml"), "--v:"))


@pytest.mark.parametrize("value", ["{{ ds.meta_data.region }}", "a{%raw%}b", "x {# note #}"])
def test_jinja_in_an_extra_arg_value_is_an_error(value: str) -> None:
    fleet = FleetBuilder.minimal().set("ClusterClass", "standard", "spec.kubeadm.kubelet.extraArgs", {"v": value})

    diagnostic = only(fleet.validate(), field="spec.kubeadm.kubelet.extraArgs.v")

    assert "cloud-init's Jinja" in diagnostic.message


def test_jinja_in_the_image_repository_or_a_taint_is_an_error() -> None:
    fleet = FleetBuilder.minimal().set("ClusterClass", "standard", "spec.kubeadm.imageRepository", "r.io/{{ x }}")
    taint = {"key": "dedicated", "value": "{{ team }}", "effect": "NoSchedule"}
    fleet.set("ClusterClass", "standard", "spec.workers.general.taints", [taint])

    result = fleet.validate()

    assert "cloud-init" in only(result, field="spec.kubeadm.imageRepository").message
    assert "cloud-init" in only(result, field="spec.workers.general.taints[0].value").message


def test_jinja_in_a_cluster_value_of_a_variable_written_into_kubeadm_is_an_error() -> None:
    patch = {"template": "controlPlane", "path": "/kubeadmConfigSpec/clusterConfiguration/imageRepository"}
    variable = {"type": "string", "default": "registry.k8s.io", "patches": [patch]}
    fleet = FleetBuilder.minimal().set("ClusterClass", "standard", "spec.variables.imageRepository", variable)
    fleet.set("Cluster", "eu-2", "spec.variables", {"imageRepository": "{{ mirror }}"})

    diagnostic = only(fleet.validate(), field="spec.variables.imageRepository")

    assert diagnostic.location.path == "fleet/clusters.yaml"
    assert "cloud-init's Jinja" in diagnostic.message


def test_plain_values_are_accepted() -> None:
    fleet = FleetBuilder.minimal().set(
        "ClusterClass", "standard", "spec.kubeadm.apiServer.extraArgs", {"audit-log-maxage": "30", "v": "{2}"}
    )

    assert_valid(fleet.validate())


@pytest.mark.parametrize(
    "label", ["kubernetes.io/role", "k8s.io/team", "example.kubernetes.io/x", "node-role.kubernetes.io/worker"]
)
def test_a_class_node_label_the_kubelet_refuses_is_an_error(label: str) -> None:
    args = {"node-labels": f"tier=platform,{label}=yes"}
    fleet = FleetBuilder.minimal().set("ClusterClass", "standard", "spec.kubeadm.kubelet.extraArgs", args)

    diagnostic = only(fleet.validate(), field="spec.kubeadm.kubelet.extraArgs.node-labels")

    assert f"the kubelet refuses node label {label}" in diagnostic.message


@pytest.mark.parametrize("label", ["kubernetes.io/role", "team.k8s.io/owner"])
def test_a_pool_node_label_neither_the_kubelet_nor_capi_sets_is_an_error_at_the_key(label: str) -> None:
    fleet = FleetBuilder.minimal().set("ClusterClass", "standard", "spec.workers.general.nodeLabels", {label: "x"})

    diagnostic = only(fleet.validate(), field=f"spec.workers.general.nodeLabels.{label}")

    assert "CAPI does not copy it from the Machine" in diagnostic.message
    assert at(diagnostic) == ("fleet/classes.yaml", *position(fleet.text("classes.yaml"), f"{label}:"))


@pytest.mark.parametrize(
    "label",
    [
        "node-role.kubernetes.io/gpu",
        "node-restriction.kubernetes.io/tier",
        "team.node-restriction.kubernetes.io/x",
        "node.cluster.x-k8s.io/pool",
        "node.kubernetes.io/exclude-from-external-load-balancers",
        "kubelet.kubernetes.io/x",
        "topology.kubernetes.io/zone",
        "example.com/team",
    ],
)
def test_pool_node_labels_the_kubelet_or_capi_sets_are_accepted(label: str) -> None:
    fleet = FleetBuilder.minimal().set("ClusterClass", "standard", "spec.workers.general.nodeLabels", {label: "x"})

    assert_valid(fleet.validate())
