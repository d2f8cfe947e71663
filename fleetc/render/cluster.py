"""One CAPI ``Cluster`` (v1beta2, managed topology) for a fleet cluster.

No ``controlPlaneRef``/``infrastructureRef``: the topology controller owns them. Worker pools become
``machineDeployments``; a pool spread across failure domains becomes one per domain with the replicas split.
A pool of ``kind: pool`` becomes one of ``machinePools``: one MachinePool whose ``failureDomains`` list every
domain it spreads over (the provider's group places the machines).
Autoscaler bounds are split the same way, so the shares never add up to more than the pool's maximum: with
fewer machines allowed than domains, some domains get ``0``/``0``, which the cluster autoscaler leaves alone.
The fleet Cluster's ``metadata.annotations`` are carried over to the CAPI Cluster. A cluster's own deletion timeouts
(``controlPlane.nodeDrainTimeout``…, ``workers.<pool>.nodeDrainTimeout``…) become the topology's ``deletion``, which
CAPI merges field by field over the class's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from fleetc.contract.vocabulary import AUTOSCALER_MAX, AUTOSCALER_MIN
from fleetc.contract.vocabulary import CAPI_API as CAPI
from fleetc.core.keys import Manifest
from fleetc.schema.cluster import ClusterDocument
from fleetc.schema.cluster_class import Autoscaling
from fleetc.schema.naming import deployment_name
from fleetc.schema.shape import ClusterShape, PoolShape


def split(total: int, parts: int) -> list[int]:
    """``total`` split into ``parts`` as evenly as possible, larger shares first."""
    share, extra = divmod(total, parts)
    return [share + (1 if index < extra else 0) for index in range(parts)]


@dataclass(frozen=True)
class Bounds:
    """One MachineDeployment's autoscaler bounds; a share of a split pool may be 0-0 (the autoscaler skips it)."""

    min: int
    max: int


def _deployment(
    pool: PoolShape,
    name: str,
    replicas: int | None,
    bounds: Bounds | Autoscaling | None,
    failure_domain: str | None,
    capacity: Mapping[str, str],
) -> Manifest:
    deployment: Manifest = {"class": pool.name, "name": name}
    if pool.deletion:
        deployment["deletion"] = dict(pool.deletion)
    if failure_domain is not None:
        deployment["failureDomain"] = failure_domain
    if bounds is not None:
        annotations = {**capacity, AUTOSCALER_MAX: str(bounds.max), AUTOSCALER_MIN: str(bounds.min)}
        deployment["metadata"] = {"annotations": dict(sorted(annotations.items()))}
    elif replicas is not None:
        deployment["replicas"] = replicas
    return deployment


def machine_deployments(
    pool: PoolShape, failure_domains: list[str], capacity: Mapping[str, str] | None = None
) -> list[Manifest]:
    """The MachineDeployment topologies of one pool; ``capacity``: its scale-from-zero annotations, if any."""
    capacity = capacity or {}
    if pool.failure_domain is not None or not (pool.spread_across_failure_domains and failure_domains):
        return [
            _deployment(
                pool, deployment_name(pool.name), pool.replicas, pool.autoscaling, pool.failure_domain, capacity
            )
        ]
    count = len(failure_domains)
    replicas = split(pool.replicas, count) if pool.replicas is not None else [None] * count
    bounds: list[Bounds | None] = [None] * count
    if pool.autoscaling is not None:
        lows, highs = split(pool.autoscaling.min, count), split(pool.autoscaling.max, count)
        bounds = [Bounds(low, high) for low, high in zip(lows, highs, strict=True)]
    return [
        _deployment(pool, deployment_name(pool.name, domain), replicas[index], bounds[index], domain, capacity)
        for index, domain in enumerate(failure_domains)
    ]


def machine_pool(pool: PoolShape, failure_domains: list[str], capacity: Mapping[str, str] | None = None) -> Manifest:
    """The MachinePool topology of a ``kind: pool`` pool: one group, over its failure domains; ``capacity``: its
    scale-from-zero annotations, if any."""
    topology = _deployment(pool, pool.name, pool.replicas, pool.autoscaling, None, capacity or {})
    if pool.failure_domain is not None:
        topology["failureDomains"] = [pool.failure_domain]
    elif pool.spread_across_failure_domains and failure_domains:
        topology["failureDomains"] = list(failure_domains)
    return topology


def cluster_object(
    cluster: ClusterDocument,
    *,
    namespace: str,
    class_ref: Manifest,
    version: str,
    shape: ClusterShape,
    failure_domains: list[str],
    variables: list[Manifest],
    labels: dict[str, str],
    rollout_after: str | None = None,
    capacity: Mapping[str, Mapping[str, str]] | None = None,
) -> Manifest:
    """The CAPI Cluster for a fleet cluster; ``rollout_after`` (machine rotation) goes to the control plane and
    every MachineDeployment (MachinePool topologies have no ``rollout.after``); ``capacity``: scale-from-zero
    annotations by pool."""
    capacity = capacity or {}
    deployments = [
        md
        for p in shape.pools
        if not p.machine_pool
        for md in machine_deployments(p, failure_domains, capacity.get(p.name))
    ]
    if rollout_after is not None:
        deployments = [{**md, "rollout": {"after": rollout_after}} for md in deployments]
    pools = [machine_pool(p, failure_domains, capacity.get(p.name)) for p in shape.pools if p.machine_pool]
    topology: Manifest = {
        "classRef": class_ref,
        "version": version,
        "controlPlane": {"replicas": shape.control_plane_replicas},
    }
    if shape.control_plane_deletion:
        topology["controlPlane"]["deletion"] = dict(shape.control_plane_deletion)
    if rollout_after is not None:
        topology["controlPlane"]["rollout"] = {"after": rollout_after}
    workers: Manifest = {}
    if deployments:
        workers["machineDeployments"] = deployments
    if pools:
        workers["machinePools"] = pools
    if workers:
        topology["workers"] = workers
    if variables:
        topology["variables"] = variables
    network = {
        "pods": {"cidrBlocks": list(shape.pods)},
        "services": {"cidrBlocks": list(shape.services)},
        "serviceDomain": shape.service_domain,
    }
    spec: Manifest = {"clusterNetwork": network, "topology": topology}
    return {
        "apiVersion": CAPI,
        "kind": "Cluster",
        "metadata": {
            "name": cluster.metadata.name,
            "namespace": namespace,
            "labels": dict(sorted(labels.items())),
            "annotations": dict(sorted(cluster.metadata.annotations.items())),
        },
        "spec": spec,
    }
