"""kubeadm configuration in CAPI v1beta2 form: extra arguments are ``[{name, value}]`` lists."""

from __future__ import annotations

from typing import Any

from fleetc.core.keys import Manifest
from fleetc.schema.cluster_class import ClusterClassSpec, WorkerPool


def extra_args(args: dict[str, str]) -> list[dict[str, str]]:
    """``{"a": "1"}`` → ``[{"name": "a", "value": "1"}]``, sorted by name."""
    return [{"name": name, "value": value} for name, value in sorted(args.items())]


def pruned(value: Any) -> Any:
    """Drop empty mappings and lists, bottom-up (kubeadm sections with minProperties reject ``{}``)."""
    if isinstance(value, dict):
        kept = {k: pruned(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v not in ({}, [], None)}
    return value


def control_plane_template_spec(shape: ClusterClassSpec, kubelet: dict[str, str], cert_sans: list[str]) -> Manifest:
    """``spec.template.spec`` of the KubeadmControlPlaneTemplate."""
    kubeadm = shape.kubeadm
    cluster_configuration = {
        "apiServer": {"extraArgs": extra_args(kubeadm.api_server.extra_args), "certSANs": list(cert_sans)},
        "controllerManager": {"extraArgs": extra_args(kubeadm.controller_manager.extra_args)},
        "scheduler": {"extraArgs": extra_args(kubeadm.scheduler.extra_args)},
        "imageRepository": kubeadm.image_repository,
    }
    registration = {"nodeRegistration": {"kubeletExtraArgs": extra_args({**kubelet, **kubeadm.kubelet.extra_args})}}
    spec = {
        "kubeadmConfigSpec": {
            "clusterConfiguration": cluster_configuration,
            "initConfiguration": registration,
            "joinConfiguration": registration,
        }
    }
    return pruned(spec) or {"kubeadmConfigSpec": {}}


def worker_bootstrap_spec(shape: ClusterClassSpec, pool: WorkerPool, kubelet: dict[str, str]) -> Manifest:
    """``spec.template.spec`` of a worker pool's KubeadmConfigTemplate."""
    args = {**kubelet, **shape.kubeadm.kubelet.extra_args}
    if pool.node_labels:
        args["node-labels"] = ",".join(f"{k}={v}" for k, v in sorted(pool.node_labels.items()))
    taints = [t.model_dump(by_alias=True, exclude_defaults=False) for t in pool.taints]
    registration = {"kubeletExtraArgs": extra_args(args), "taints": taints}
    return pruned({"joinConfiguration": {"nodeRegistration": registration}}) or {}
