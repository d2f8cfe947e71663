"""The ``ClusterClass`` document: a provider-agnostic cluster shape ("a machine of size large")."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from fleetc.schema.base import API_VERSION, Addon, ObjectMeta, SpecModel
from fleetc.schema.rotation import MachineRotation
from fleetc.schema.types import MAX_INT32, AmountField, Cidr, Duration, Labels, Name


class HealthCheck(SpecModel):
    """Machine health checking (CAPI MachineHealthCheck)."""

    node_startup_timeout: Duration = Field(default=600, description="How long a machine may take to get a Node.")
    unhealthy_node_timeout: Duration = Field(
        default=300, description="How long a Node may be NotReady or Unknown before remediation."
    )
    max_unhealthy: AmountField | None = Field(
        default=None, description="Remediate only while at most this many machines are unhealthy."
    )


class DeletionTimeouts(SpecModel):
    """How long CAPI drains a machine's Node, waits for its volumes and retries deleting the Node, over what applies
    otherwise (the class's, for a control plane, a pool or one cluster's part)."""

    node_drain_timeout: Duration | None = Field(
        default=None, description="How long draining a machine's Node may take (the class's if unset)."
    )
    node_volume_detach_timeout: Duration | None = Field(
        default=None, description="How long CAPI waits for a machine's volumes to detach (the class's if unset)."
    )
    node_deletion_timeout: Duration | None = Field(
        default=None, description="How long CAPI retries deleting a machine's Node (the class's if unset)."
    )


class ControlPlane(DeletionTimeouts):
    """The control plane: kubeadm-managed, with etcd on its machines."""

    replicas: int = Field(default=3, ge=1, le=MAX_INT32, description="Machines; odd, for etcd quorum.")
    size: Name = Field(description="Machine size, mapped to a machine type by each provider.")
    health_check: HealthCheck | None = None


class Autoscaling(SpecModel):
    """Cluster-autoscaler bounds for a worker pool."""

    min: int = Field(ge=0, le=MAX_INT32)
    max: int = Field(ge=1, le=MAX_INT32)

    @model_validator(mode="after")
    def _ordered(self) -> Autoscaling:
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        return self


class Taint(SpecModel):
    """A Node taint."""

    key: str
    value: str = ""
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]


AUTOSCALING_XOR_REPLICAS = (
    "set either replicas or autoscaling bounds (with autoscaling, the cluster autoscaler owns the replica count "
    "and the pool starts at its minimum)"
)


PoolKind = Literal["deployment", "pool"]
"""``deployment``: a CAPI MachineDeployment (fleetc's Machines, one by one); ``pool``: a CAPI MachinePool, a
group the infrastructure provider scales and replaces itself (only on providers with a machine pool template)."""


class WorkerPool(DeletionTimeouts):
    """A pool of worker machines (a CAPI MachineDeployment class, or a MachinePool class with ``kind: pool``)."""

    kind: PoolKind = Field(
        default="deployment",
        description="deployment (a MachineDeployment) or pool (a MachinePool: the provider's native machine group).",
    )
    size: Name = Field(description="Machine size, mapped to a machine type by each provider.")
    replicas: int | None = Field(
        default=None, ge=0, le=MAX_INT32, description="Machines (or autoscaling bounds instead)."
    )
    autoscaling: Autoscaling | None = None
    spread_across_failure_domains: bool = Field(
        default=False, description="One MachineDeployment per provider failure domain, replicas split evenly."
    )
    node_labels: Labels = Field(default_factory=dict)
    taints: list[Taint] = Field(default_factory=list)
    health_check: HealthCheck | None = None

    @model_validator(mode="after")
    def _replicas_or_autoscaling(self) -> WorkerPool:
        if (self.replicas is None) == (self.autoscaling is None):
            raise ValueError(AUTOSCALING_XOR_REPLICAS)
        return self

    @property
    def is_machine_pool(self) -> bool:
        """True for a CAPI MachinePool (``kind: pool``)."""
        return self.kind == "pool"


class Network(SpecModel):
    """Cluster networking."""

    pods: list[Cidr] = Field(default_factory=lambda: ["192.168.0.0/16"], min_length=1, max_length=2)
    services: list[Cidr] = Field(default_factory=lambda: ["10.128.0.0/12"], min_length=1, max_length=2)
    service_domain: str = "cluster.local"


class ComponentSettings(SpecModel):
    """Extra arguments of one Kubernetes component."""

    extra_args: dict[str, str] = Field(default_factory=dict)


class KubeadmSettings(SpecModel):
    """kubeadm settings shared by every machine of the class."""

    api_server: ComponentSettings = Field(default_factory=ComponentSettings)
    controller_manager: ComponentSettings = Field(default_factory=ComponentSettings)
    scheduler: ComponentSettings = Field(default_factory=ComponentSettings)
    kubelet: ComponentSettings = Field(default_factory=ComponentSettings)
    image_repository: str | None = None


PatchTarget = Literal[
    "controlPlane", "controlPlaneMachine", "workerBootstrap", "workerMachine", "infrastructureCluster"
]
WORKER_TARGETS: frozenset[str] = frozenset({"workerBootstrap", "workerMachine"})


class VariablePatch(SpecModel):
    """Where a variable's value goes: a field of one of the class's templates (a CAPI ClusterClass patch)."""

    template: PatchTarget = Field(
        description="controlPlane (KubeadmControlPlaneTemplate), controlPlaneMachine, workerBootstrap "
        "(KubeadmConfigTemplate), workerMachine, or infrastructureCluster (the provider's cluster template)."
    )
    path: str = Field(
        pattern=r"^(/[^/]+)+$",
        description="JSON pointer under the template's spec.template.spec, e.g. "
        "/kubeadmConfigSpec/clusterConfiguration/imageRepository; '-' as the last step appends to a list.",
    )
    pools: list[Name] = Field(
        default_factory=list, description="Worker templates only: the pools to patch (every pool by default)."
    )


class Variable(SpecModel):
    """A variable clusters of this class may set (becomes a CAPI ClusterClass variable).

    ``patches`` say which template fields the value is written to; a string variable whose value is empty
    leaves the templates as they are.
    """

    type: Literal["string", "integer", "number", "boolean"]
    required: bool = False
    default: Any = None
    description: str = ""
    patches: list[VariablePatch] = Field(default_factory=list, description="Template fields that take the value.")


class ClusterClassSpec(SpecModel):
    """The shape of a cluster."""

    control_plane: ControlPlane
    workers: dict[Name, WorkerPool] = Field(default_factory=dict, description="Worker pools by name.")
    network: Network = Field(default_factory=Network)
    health_check: HealthCheck = Field(default_factory=HealthCheck)
    node_drain_timeout: Duration | None = Field(
        default=None,
        description="How long draining a Node may take before CAPI deletes its machine anyway (a PodDisruptionBudget "
        "can block a drain for ever); unset: as long as it takes.",
    )
    node_volume_detach_timeout: Duration | None = Field(
        default=None,
        description="How long CAPI waits, after the drain, for a Node's volumes to detach before deleting its machine "
        "anyway (a storage driver can fail to detach for ever); unset: as long as it takes.",
    )
    node_deletion_timeout: Duration | None = Field(
        default=None,
        description="How long CAPI retries deleting a machine's Node before giving up and deleting the machine; unset: "
        "CAPI's default, 10s.",
    )
    kubeadm: KubeadmSettings = Field(default_factory=KubeadmSettings)
    variables: dict[str, Variable] = Field(default_factory=dict)
    addons: list[Addon] = Field(default_factory=list, description="Manifests every cluster of the class gets.")
    machine_rotation: MachineRotation | None = Field(
        default=None, description="Machine rotation and certificate renewal (over the fleet's, field by field)."
    )


class ClusterClassDocument(SpecModel):
    """A fleet-level cluster class, compiled into one CAPI ClusterClass per provider."""

    api_version: Literal["fleetc.io/v1alpha1"] = API_VERSION
    kind: Literal["ClusterClass"] = "ClusterClass"
    metadata: ObjectMeta
    spec: ClusterClassSpec
