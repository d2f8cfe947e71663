"""The ``Cluster`` document (one topology entry) and the ``ClusterSet`` generator of many similar ones."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from fleetc.schema.base import API_VERSION, ObjectMeta, SpecModel
from fleetc.schema.cluster_class import AUTOSCALING_XOR_REPLICAS, Autoscaling, DeletionTimeouts
from fleetc.schema.types import MAX_INT32, Cidr, KubernetesVersion, Name


class ControlPlaneOverride(DeletionTimeouts):
    """Per-cluster control-plane overrides."""

    replicas: int | None = Field(default=None, ge=1, le=MAX_INT32)
    size: Name | None = None


class PoolOverride(DeletionTimeouts):
    """Per-cluster overrides of one worker pool of the class; replicas or autoscaling replace the class's sizing."""

    replicas: int | None = Field(default=None, ge=0, le=MAX_INT32)
    size: Name | None = None
    autoscaling: Autoscaling | None = None
    failure_domain: str | None = Field(default=None, description="Pin the pool to one failure domain.")

    @model_validator(mode="after")
    def _not_both(self) -> PoolOverride:
        if self.replicas is not None and self.autoscaling is not None:
            raise ValueError(AUTOSCALING_XOR_REPLICAS)
        return self


class NetworkOverride(SpecModel):
    """Per-cluster network overrides."""

    pods: list[Cidr] | None = Field(default=None, min_length=1, max_length=2)
    services: list[Cidr] | None = Field(default=None, min_length=1, max_length=2)


class Endpoint(SpecModel):
    """A control-plane endpoint (required on vSphere, where the fleet assigns the address)."""

    host: str = Field(min_length=1)
    port: int = Field(default=6443, ge=1, le=65535)


class ClusterSpec(SpecModel):
    """Where a cluster runs, what shape it has, and which Kubernetes version it follows."""

    class_: Name = Field(alias="class", description="The ClusterClass (shape).")
    provider: Name = Field(description="The Provider (infrastructure target).")
    version: KubernetesVersion | None = Field(default=None, description="Pin a version (or follow a channel).")
    channel: Name | None = Field(default=None, description="Follow a fleet channel (or pin a version).")
    namespace: Name | None = Field(default=None, description="Management namespace; the fleet's by default.")
    control_plane: ControlPlaneOverride = Field(default_factory=ControlPlaneOverride)
    workers: dict[Name, PoolOverride] = Field(default_factory=dict, description="Overrides by class pool name.")
    network: NetworkOverride = Field(default_factory=NetworkOverride)
    control_plane_endpoint: Endpoint | None = None
    variables: dict[str, Any] = Field(default_factory=dict, description="Values of the class's variables.")
    decommission: bool = Field(
        default=False,
        description=(
            "Mark the cluster for deletion: once this is applied, removing the entry from the spec deletes the CAPI "
            "Cluster and its machines (fleetc apply needs --allow-delete). Without the mark, a removed cluster is "
            "orphaned: left running, no longer managed."
        ),
    )

    @model_validator(mode="after")
    def _version_xor_channel(self) -> ClusterSpec:
        if self.version is not None and self.channel is not None:
            raise ValueError("set either version or channel, not both")
        return self


class ClusterDocument(SpecModel):
    """One workload cluster of the fleet."""

    api_version: Literal["fleetc.io/v1alpha1"] = API_VERSION
    kind: Literal["Cluster"] = "Cluster"
    metadata: ObjectMeta
    spec: ClusterSpec


ParameterValue = str | int | dict[str, str | int]


class ClusterTemplate(SpecModel):
    """The cluster each matrix combination expands into; ``${param}`` and ``${param.key}`` are substituted."""

    metadata: dict[str, Any]
    spec: dict[str, Any]


class ClusterSetSpec(SpecModel):
    """A matrix of parameters and the template each combination fills."""

    matrix: dict[str, list[ParameterValue]] = Field(
        min_length=1, description="Parameter name → values (strings, or maps of strings with a 'name')."
    )
    exclude: list[dict[str, str]] = Field(default_factory=list, description="Combinations to leave out.")
    template: ClusterTemplate


class ClusterSetDocument(SpecModel):
    """A generator: one Cluster per combination of the matrix (e.g. regions × environments)."""

    api_version: Literal["fleetc.io/v1alpha1"] = API_VERSION
    kind: Literal["ClusterSet"] = "ClusterSet"
    metadata: ObjectMeta
    spec: ClusterSetSpec
