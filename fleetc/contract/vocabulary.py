"""CAPI's names: API groups and versions, (group, kind) pairs, labels, annotations and finalizers.

Keys are CAPI v1.14's (``api/core/v1beta2/common_types.go``, ``machine_types.go``,
``machinedeployment_types.go``, ``api/controlplane/kubeadm/v1beta2/kubeadm_control_plane_types.go``,
``internal/controllers/topology``). Callers: render (what fleetc writes), plan (what a diff reads), rollout
(gates), the simulator (what simulated controllers write) and ``fleetc status``.
"""

from __future__ import annotations

from typing import Final

CAPI_VERSION: Final = "v1beta2"
"""The CAPI API version fleetc writes and reads (core, control plane, bootstrap)."""

CAPI_GROUP: Final = "cluster.x-k8s.io"
CONTROL_PLANE_GROUP: Final = "controlplane.cluster.x-k8s.io"
BOOTSTRAP_GROUP: Final = "bootstrap.cluster.x-k8s.io"
INFRASTRUCTURE_GROUP: Final = "infrastructure.cluster.x-k8s.io"

CAPI_API: Final = f"{CAPI_GROUP}/{CAPI_VERSION}"
CONTROL_PLANE_API: Final = f"{CONTROL_PLANE_GROUP}/{CAPI_VERSION}"
BOOTSTRAP_API: Final = f"{BOOTSTRAP_GROUP}/{CAPI_VERSION}"


def infrastructure_api(version: str) -> str:
    """An infrastructure provider's ``apiVersion`` (providers version their API on their own: v1beta1, v1beta2)."""
    return f"{INFRASTRUCTURE_GROUP}/{version}"


GroupKind = tuple[str, str]

CLUSTER: Final[GroupKind] = (CAPI_GROUP, "Cluster")
CLUSTER_CLASS: Final[GroupKind] = (CAPI_GROUP, "ClusterClass")
MACHINE: Final[GroupKind] = (CAPI_GROUP, "Machine")
MACHINE_SET: Final[GroupKind] = (CAPI_GROUP, "MachineSet")
MACHINE_DEPLOYMENT: Final[GroupKind] = (CAPI_GROUP, "MachineDeployment")
MACHINE_HEALTH_CHECK: Final[GroupKind] = (CAPI_GROUP, "MachineHealthCheck")
KCP: Final[GroupKind] = (CONTROL_PLANE_GROUP, "KubeadmControlPlane")
MACHINE_POOL: Final[GroupKind] = (CAPI_GROUP, "MachinePool")

WORKLOAD_KINDS: Final[tuple[GroupKind, ...]] = (
    CLUSTER,
    KCP,
    MACHINE,
    MACHINE_DEPLOYMENT,
    MACHINE_SET,
    MACHINE_HEALTH_CHECK,
    MACHINE_POOL,
)
"""The CAPI objects that make up one workload cluster (what the gates and ``fleetc status`` read)."""

# Labels
CLUSTER_NAME_LABEL: Final = "cluster.x-k8s.io/cluster-name"
CONTROL_PLANE_LABEL: Final = "cluster.x-k8s.io/control-plane"
CONTROL_PLANE_NAME_LABEL: Final = "cluster.x-k8s.io/control-plane-name"
DEPLOYMENT_NAME_LABEL: Final = "cluster.x-k8s.io/deployment-name"
SET_NAME_LABEL: Final = "cluster.x-k8s.io/set-name"
TEMPLATE_HASH_LABEL: Final = "machine-template-hash"
TOPOLOGY_OWNED_LABEL: Final = "topology.cluster.x-k8s.io/owned"
TOPOLOGY_DEPLOYMENT_LABEL: Final = "topology.cluster.x-k8s.io/deployment-name"
TOPOLOGY_POOL_LABEL: Final = "topology.cluster.x-k8s.io/pool-name"

# Annotations
CLONED_FROM_NAME: Final = "cluster.x-k8s.io/cloned-from-name"
CLONED_FROM_GROUPKIND: Final = "cluster.x-k8s.io/cloned-from-groupkind"
UPGRADE_CONCURRENCY: Final = "topology.cluster.x-k8s.io/upgrade-concurrency"
UPGRADE_STEP: Final = "topology.internal.cluster.x-k8s.io/upgrade-step"
DEFER_UPGRADE: Final = "topology.cluster.x-k8s.io/defer-upgrade"
HOLD_UPGRADE_SEQUENCE: Final = "topology.cluster.x-k8s.io/hold-upgrade-sequence"
AUTOSCALER_MIN: Final = "cluster.x-k8s.io/cluster-api-autoscaler-node-group-min-size"
AUTOSCALER_MAX: Final = "cluster.x-k8s.io/cluster-api-autoscaler-node-group-max-size"
PRE_TERMINATE_KCP: Final = "pre-terminate.delete.hook.machine.cluster.x-k8s.io/kcp-cleanup"
REMEDIATION_IN_PROGRESS: Final = "controlplane.cluster.x-k8s.io/remediation-in-progress"
REMEDIATION_FOR: Final = "controlplane.cluster.x-k8s.io/remediation-for"
MD_REVISION: Final = "machinedeployment.clusters.x-k8s.io/revision"
MD_DESIRED_REPLICAS: Final = "machinedeployment.clusters.x-k8s.io/desired-replicas"
MD_MAX_REPLICAS: Final = "machinedeployment.clusters.x-k8s.io/max-replicas"
MS_DISABLE_CREATE: Final = "machineset.cluster.x-k8s.io/disable-machine-create"

# Finalizers
MACHINE_FINALIZER: Final = "machine.cluster.x-k8s.io"
CLUSTER_FINALIZER: Final = "cluster.cluster.x-k8s.io"
