"""One CAPI ``Cluster`` (v1beta2, managed topology) for a fleet cluster.

No ``controlPlaneRef``/``infrastructureRef``: the topology controller owns them. Worker pools become
``machineDeployments``; a pool spread across failure domains becomes one per domain with the replicas split.
A pool of ``kind: pool`` becomes one of ``machinePools``: one MachinePool whose ``failureDomains`` list every
domain it spreads over (the provider's group places the machines).
"""

from __future__ import annotations

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


def _deployment(
    pool: PoolShape, name: str, replicas: int | None, bounds: Autoscaling | None, failure_domain: str | None
) -> Manifest:
    deployment: Manifest = {"class": pool.name, "name": name}
    if failure_domain is not None:
        deployment["failureDomain"] = failure_domain
    if bounds is not None:
        deployment["metadata"] = {"annotations": {AUTOSCALER_MAX: str(bounds.max), AUTOSCALER_MIN: str(bounds.min)}}
    elif replicas is not None:
        deployment["replicas"] = replicas
    return deployment


def machine_deployments(pool: PoolShape, failure_domains: list[str]) -> list[Manifest]:
    """The MachineDeployment topologies of one pool."""
    if pool.failure_domain is not None or not (pool.spread_across_failure_domains and failure_domains):
        return [_deployment(pool, deployment_name(pool.name), pool.replicas, pool.autoscaling, pool.failure_domain)]
    count = len(failure_domains)
    replicas = split(pool.replicas, count) if pool.replicas is not None else [None] * count
    bounds: list[Autoscaling | None] = [None] * count
    if pool.autoscaling is not None:
        lows, highs = split(pool.autoscaling.min, count), split(pool.autoscaling.max, count)
        bounds = [Autoscaling(min=low, max=max(high, 1)) for low, high in zip(lows, highs, strict=True)]
    return [
        _deployment(pool, deployment_name(pool.name, domain), replicas[index], bounds[index], domain)
        for index, domain in enumerate(failure_domains)
    ]


def machine_pool(pool: PoolShape, failure_domains: list[str]) -> Manifest:
    """The MachinePool topology of a ``kind: pool`` pool: one group, over its failure domains."""
    topology = _deployment(pool, pool.name, pool.replicas, pool.autoscaling, None)
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
) -> Manifest:
    """The CAPI Cluster for a fleet cluster; ``rollout_after`` (machine rotation) goes to the control plane and
    every MachineDeployment (MachinePool topologies have no ``rollout.after``)."""
    deployments = [md for p in shape.pools if not p.machine_pool for md in machine_deployments(p, failure_domains)]
    if rollout_after is not None:
        deployments = [{**md, "rollout": {"after": rollout_after}} for md in deployments]
    pools = [machine_pool(p, failure_domains) for p in shape.pools if p.machine_pool]
    topology: Manifest = {
        "classRef": class_ref,
        "version": version,
        "controlPlane": {"replicas": shape.control_plane_replicas},
    }
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
        "metadata": {"name": cluster.metadata.name, "namespace": namespace, "labels": dict(sorted(labels.items()))},
        "spec": spec,
    }
