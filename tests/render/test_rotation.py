"""Machine rotation compiled: ``rollout.after`` on the control plane and every MachineDeployment topology (not on
MachinePools, which have none), certificate renewal in the KubeadmControlPlaneTemplate; all against the CRDs."""

from __future__ import annotations

import copy
from typing import Any

from tests.render.providers.support import CLASS, compile_documents, one, provider, render, violations
from tests.render.test_machine_pools import DOCKER, docker_cluster, pooled_class

POLICY = {"rotateAfter": "2026-12-01T09:30:00+01:00", "renewCertificatesDaysBeforeExpiry": 30}


def _with_policy(cluster_class: dict[str, Any]) -> dict[str, Any]:
    cluster_class = copy.deepcopy(cluster_class)
    cluster_class["spec"]["machineRotation"] = POLICY
    return cluster_class


def test_rotate_after_becomes_rollout_after_on_the_control_plane_and_each_deployment_in_utc() -> None:
    rendered = compile_documents(DOCKER, docker_cluster(), cluster_class=_with_policy(pooled_class()))
    topology = one(rendered, "Cluster")["spec"]["topology"]

    assert topology["controlPlane"]["rollout"] == {"after": "2026-12-01T08:30:00Z"}
    deployments = topology["workers"]["machineDeployments"]
    assert [d["rollout"] for d in deployments] == [{"after": "2026-12-01T08:30:00Z"}] * len(deployments)
    assert all("rollout" not in p for p in topology["workers"]["machinePools"])
    assert violations(rendered.manifests()) == []


def test_certificate_renewal_goes_into_the_kubeadm_control_plane_template() -> None:
    rendered = compile_documents(provider("aws"), _aws_cluster(), cluster_class=_with_policy(CLASS))
    template = one(rendered, "KubeadmControlPlaneTemplate")

    assert template["spec"]["template"]["spec"]["rollout"] == {"before": {"certificatesExpiryDays": 30}}
    assert violations(rendered.manifests()) == []


def test_without_a_policy_nothing_is_rendered() -> None:
    rendered = render(provider("aws"))

    assert "rollout" not in one(rendered, "Cluster")["spec"]["topology"]["controlPlane"]
    assert "rollout" not in one(rendered, "KubeadmControlPlaneTemplate")["spec"]["template"]["spec"]


def _aws_cluster() -> dict[str, Any]:
    return {"apiVersion": "fleetc.io/v1alpha1", "kind": "Cluster", "metadata": {"name": "c1"},
            "spec": {"class": "standard", "provider": "aws"}}  # fmt: skip
