"""The effective shape of one cluster: its class with the cluster's overrides applied."""

from __future__ import annotations

from dataclasses import dataclass

from fleetc.schema.cluster import ClusterDocument, PoolOverride
from fleetc.schema.cluster_class import Autoscaling, ClusterClassDocument, ClusterClassSpec, DeletionTimeouts


@dataclass(frozen=True)
class PoolShape:
    """One worker pool after overrides."""

    name: str
    size: str
    replicas: int | None
    autoscaling: Autoscaling | None
    failure_domain: str | None
    spread_across_failure_domains: bool
    size_overridden: bool
    machine_pool: bool = False
    """A CAPI MachinePool (``kind: pool``) rather than a MachineDeployment."""
    deletion: tuple[tuple[str, int], ...] = ()
    """The cluster's own deletion timeouts for this pool (CAPI topology ``deletion`` fields), over the class's."""


@dataclass(frozen=True)
class ClusterShape:
    """A cluster's control plane, pools and networks after overrides."""

    control_plane_replicas: int
    control_plane_size: str
    control_plane_size_overridden: bool
    pools: tuple[PoolShape, ...]
    pods: tuple[str, ...]
    services: tuple[str, ...]
    service_domain: str
    control_plane_deletion: tuple[tuple[str, int], ...] = ()
    """The cluster's own deletion timeouts for the control plane (CAPI topology ``deletion`` fields)."""


def deletion_fields(
    own: DeletionTimeouts, inherited: DeletionTimeouts | ClusterClassSpec | None = None
) -> tuple[tuple[str, int], ...]:
    """The CAPI ``deletion`` fields (``nodeDrainTimeoutSeconds``…) that ``own`` sets, each else ``inherited``'s, in
    CAPI's order."""
    fields = (
        ("nodeDrainTimeoutSeconds", "node_drain_timeout"),
        ("nodeVolumeDetachTimeoutSeconds", "node_volume_detach_timeout"),
        ("nodeDeletionTimeoutSeconds", "node_deletion_timeout"),
    )
    found = ((field, _own_or(getattr(own, name), getattr(inherited, name, None))) for field, name in fields)
    return tuple((field, seconds) for field, seconds in found if seconds is not None)


def _own_or(own: int | None, inherited: int | None) -> int | None:
    return own if own is not None else inherited


def shape_of(cluster: ClusterDocument, cluster_class: ClusterClassDocument) -> ClusterShape:
    """Apply a cluster's overrides to its class; pool overrides that name no class pool are ignored."""
    spec, shape = cluster.spec, cluster_class.spec
    pools = []
    for name, pool in shape.workers.items():
        override = spec.workers.get(name) or PoolOverride()
        resized = override.replicas is not None or override.autoscaling is not None
        pools.append(
            PoolShape(
                name=name,
                size=override.size or pool.size,
                replicas=override.replicas if resized else pool.replicas,
                autoscaling=override.autoscaling if resized else pool.autoscaling,
                failure_domain=override.failure_domain,
                spread_across_failure_domains=pool.spread_across_failure_domains,
                size_overridden=override.size is not None,
                machine_pool=pool.is_machine_pool,
                deletion=deletion_fields(override),
            )
        )
    return ClusterShape(
        control_plane_replicas=spec.control_plane.replicas or shape.control_plane.replicas,
        control_plane_size=spec.control_plane.size or shape.control_plane.size,
        control_plane_size_overridden=spec.control_plane.size is not None,
        pools=tuple(pools),
        pods=tuple(spec.network.pods or shape.network.pods),
        services=tuple(spec.network.services or shape.network.services),
        service_domain=shape.network.service_domain,
        control_plane_deletion=deletion_fields(spec.control_plane),
    )
