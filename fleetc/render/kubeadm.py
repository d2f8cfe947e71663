"""kubeadm configuration in CAPI v1beta2 form: extra arguments are ``[{name, value}]`` lists.

The control plane gets a bounded remediation retry (:data:`CONTROL_PLANE_REMEDIATION`): without ``maxRetry``,
KCP replaces a control-plane machine that keeps failing forever. A worker pool's Node labels join the class's
``node-labels`` kubelet flag (neither loses the other); those the kubelet refuses but CAPI copies from the
Machine (:mod:`fleetc.schema.node_labels`) are left to :func:`machine_labels`.
"""

from __future__ import annotations

from typing import Any

from fleetc.core.keys import Manifest
from fleetc.schema import node_labels
from fleetc.schema.cluster_class import ClusterClassSpec, WorkerPool

CONTROL_PLANE_REMEDIATION: Manifest = {"maxRetry": 3, "retryPeriodSeconds": 300}
"""KCP tries a failing control-plane machine's replacement three times, five minutes apart, then stops
(``CannotBeRemediated``) until ``minHealthyPeriodSeconds`` (CAPI's default, 1 h) has passed."""


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
    return {"kubeadmConfigSpec": {}, **pruned(spec), "remediation": dict(CONTROL_PLANE_REMEDIATION)}


def worker_bootstrap_spec(shape: ClusterClassSpec, pool: WorkerPool, kubelet: dict[str, str]) -> Manifest:
    """``spec.template.spec`` of a worker pool's KubeadmConfigTemplate."""
    args = {**kubelet, **shape.kubeadm.kubelet.extra_args}
    labels = node_labels.parse(args.get(node_labels.NODE_LABELS_ARG, ""))
    labels |= {k: v for k, v in pool.node_labels.items() if node_labels.placement(k) == "kubelet"}
    if labels:
        args[node_labels.NODE_LABELS_ARG] = node_labels.joined(labels)
    taints = [t.model_dump(by_alias=True, exclude_defaults=False) for t in pool.taints]
    registration = {"kubeletExtraArgs": extra_args(args), "taints": taints}
    return pruned({"joinConfiguration": {"nodeRegistration": registration}}) or {}


def machine_labels(pool: WorkerPool) -> dict[str, str]:
    """The pool's Node labels that CAPI copies from each Machine to its Node (the kubelet refuses them)."""
    return {k: v for k, v in sorted(pool.node_labels.items()) if node_labels.placement(k) == "machine"}
