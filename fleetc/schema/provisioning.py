"""Provider settings that would validate and render, yet not provision: refused before merge.

- AWS: at most :data:`AWS_MAX_ZONES` failure domains (fleetc carves a public and a private /20 per zone from
  the VPC's /16), each a zone of the provider's region; ``amiID`` only with a single catalogue version (an AMI
  carries one kubelet version).
- GCP: an image is required (CAPG's fallback is an image family in the cluster's own project that nobody
  publishes); a pool that may scale from zero needs its machine type's capacity (CAPG publishes none).
- vSphere: failure domains are label values (the deployment zones are selected by label).
- Dev in-memory: no failure domains (its DevCluster cannot declare any, so no machine could be placed).
- IP families: an IPv6 pod or service range only on the dev providers (fleetc emits no provider's IPv6
  settings), and no IPv6 control-plane endpoint on a cluster without an IPv6 service range.
- OpenStack: the node subnet overlaps neither the pod nor the service range.
- Health checks: ``maxUnhealthy`` as a count on a pool spread across failure domains is refused: CAPI checks
  each domain's MachineDeployment on its own, so the count would hold per domain, not for the pool. A percentage
  that rounds down to no Machine in a pool's smallest MachineDeployment is a warning (it validates, and CAPI flags
  failed workers there but never replaces one: its MachineHealthCheck allows remediation only while the unhealthy
  count is at most the percentage of its Machines, rounded down).

Caller: :func:`fleetc.schema.validate.validate_tree`.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Callable, Iterable, Iterator

from fleetc.core.diagnostics import Diagnostic, Severity
from fleetc.schema.cluster import ClusterDocument
from fleetc.schema.cluster_class import ClusterClassSpec
from fleetc.schema.model import Entry, Fleet
from fleetc.schema.provider import (
    DEV_TYPES,
    AwsSpec,
    DevInMemorySpec,
    GcpSpec,
    OpenStackSpec,
    ProviderDocument,
    VSphereSpec,
)
from fleetc.schema.shape import ClusterShape, PoolShape, shape_of
from fleetc.schema.types import Amount, check_label_value

AWS_MAX_ZONES = 8
"""A public and a private /20 per zone fill the managed VPC's /16 at eight zones."""


def check(fleet: Fleet) -> list[Diagnostic]:
    """Every provisioning rule over the fleet."""
    rules: list[Callable[[Fleet], Iterable[Diagnostic]]] = [
        provider_settings,
        ip_families,
        openstack_subnets,
        split_health_checks,
        remediation_never_allowed,
        gcp_scale_from_zero,
    ]
    return [d for rule in rules for d in rule(fleet)]


def _aws(entry: Entry[ProviderDocument], spec: AwsSpec, versions: int) -> Iterator[Diagnostic]:
    zones = spec.failure_domains
    if len(zones) > AWS_MAX_ZONES:  # reported once; the zones themselves are checked once there are few enough
        message = f"{len(zones):,} failure domains; fleetc gives each its own subnets, which fit {AWS_MAX_ZONES} zones"
        yield entry.origin.diagnostic(("spec", "failureDomains"), message)
        return
    for index, zone in enumerate(zones):
        if not (zone.startswith(spec.region) and len(zone) > len(spec.region)):
            message = f"'{zone}' is not an availability zone of region {spec.region} (e.g. {spec.region}a)"
            yield entry.origin.diagnostic(("spec", "failureDomains", index), message)
    if spec.settings.ami_id is not None and versions > 1:
        message = (
            f"one AMI cannot boot the {versions} Kubernetes versions of the catalogue (it carries one kubelet); "
            "leave amiID out and let CAPA look up each version's AMI (imageLookupFormat, imageLookupOrg)"
        )
        yield entry.origin.diagnostic(("spec", "settings", "amiID"), message)


def provider_settings(fleet: Fleet) -> Iterator[Diagnostic]:
    """The per-provider rules that need only the Provider (and the catalogue)."""
    versions = len(fleet.settings.document.spec.versions.catalogue)
    for entry in fleet.providers.values():
        spec = entry.document.spec
        if isinstance(spec, AwsSpec):
            yield from _aws(entry, spec, versions)
        elif isinstance(spec, GcpSpec) and spec.settings.image is None:
            message = (
                "set the image machines boot ('{version}' in it becomes each machine's version, v1-35-0): "
                "without one CAPG boots the image family capi-ubuntu-1804-k8s-v1-NN of project "
                f"{spec.settings.project}, which exists only if you built it there"
            )
            yield entry.origin.diagnostic(("spec", "settings"), message)
        elif isinstance(spec, DevInMemorySpec) and spec.failure_domains:
            message = (
                "the in-memory backend cannot declare failure domains (its DevCluster has no field for them), "
                "so no machine could be placed in one; leave failureDomains out"
            )
            yield entry.origin.diagnostic(("spec", "failureDomains"), message)
        elif isinstance(spec, VSphereSpec):
            yield from _vsphere_zones(entry, spec)


SHOWN_ZONES = 5
"""Bad zone names reported one by one per provider; the rest are counted in one more diagnostic."""


def _vsphere_zones(entry: Entry[ProviderDocument], spec: VSphereSpec) -> Iterator[Diagnostic]:
    bad = [(index, zone) for index, zone in enumerate(spec.failure_domains) if not _label_value(zone)]
    for index, zone in bad[:SHOWN_ZONES]:
        message = (
            f"'{zone}' must be a label value: control-plane machines are placed in the deployment zones labelled "
            "fleetc.io/deployment-zone=<name>"
        )
        yield entry.origin.diagnostic(("spec", "failureDomains", index), message)
    if len(bad) > SHOWN_ZONES:
        message = f"{len(bad) - SHOWN_ZONES:,} more failure domains are not label values"
        yield entry.origin.diagnostic(("spec", "failureDomains"), message)


def _label_value(text: str) -> bool:
    try:
        check_label_value(text)
    except ValueError:
        return False
    return True


def _clusters(fleet: Fleet) -> Iterator[tuple[Entry[ClusterDocument], ClusterShape, ProviderDocument]]:
    for entry in fleet.clusters.values():
        spec = entry.document.spec
        cluster_class, provider = fleet.classes.get(spec.class_), fleet.providers.get(spec.provider)
        if cluster_class is not None and provider is not None:
            yield entry, shape_of(entry.document, cluster_class.document), provider.document


def _networks(shape: ClusterShape) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(cidr) for cidr in (*shape.pods, *shape.services)]


def _is_ipv6(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).version == 6
    except ValueError:
        return False


def ip_families(fleet: Fleet) -> Iterator[Diagnostic]:
    """IPv6 ranges only where fleetc can emit them; an IPv6 endpoint only on a cluster with IPv6 services."""
    for entry, shape, provider in _clusters(fleet):
        spec = entry.document.spec
        ipv6 = [str(n) for n in _networks(shape) if n.version == 6]
        if ipv6 and provider.spec.type not in DEV_TYPES:
            overridden = spec.network.pods is not None or spec.network.services is not None
            message = (
                f"IPv6 range {ipv6[0]} on provider {provider.metadata.name}: fleetc cannot emit "
                f"{provider.spec.type}'s IPv6 network settings yet, so the cluster would get no IPv6 addresses; "
                "use IPv4 ranges"
            )
            yield entry.origin.diagnostic(("spec", "network") if overridden else ("spec", "provider"), message)
        endpoint = spec.control_plane_endpoint
        has_ipv6_services = any(ipaddress.ip_network(s).version == 6 for s in shape.services)
        if endpoint is not None and _is_ipv6(endpoint.host) and not has_ipv6_services:
            message = f"IPv6 endpoint {endpoint.host} on an IPv4 cluster (its service range has no IPv6 block)"
            yield entry.origin.diagnostic(("spec", "controlPlaneEndpoint", "host"), message)


def openstack_subnets(fleet: Fleet) -> Iterator[Diagnostic]:
    """The subnet CAPO creates for the nodes overlaps neither pods nor services."""
    for entry, shape, provider in _clusters(fleet):
        spec = provider.spec
        if not isinstance(spec, OpenStackSpec):
            continue
        nodes = ipaddress.ip_network(spec.settings.node_cidr)
        for network in _networks(shape):
            if network.version == nodes.version and network.overlaps(nodes):
                message = (
                    f"provider {provider.metadata.name}'s node subnet {nodes} overlaps the cluster's range {network}; "
                    "change settings.nodeCidr or the cluster's network"
                )
                yield entry.origin.diagnostic(("spec", "provider"), message)
                break


def _spread(pool: PoolShape, domains: list[str]) -> bool:
    return pool.failure_domain is None and pool.spread_across_failure_domains and len(domains) > 1


def split_health_checks(fleet: Fleet) -> Iterator[Diagnostic]:
    """A count of unhealthy machines cannot be kept for a pool split into one MachineDeployment per domain."""
    reported: set[tuple[str, str]] = set()
    for entry, shape, provider in _clusters(fleet):
        class_name = entry.document.spec.class_
        class_entry = fleet.classes[class_name]
        class_spec = class_entry.document.spec
        domains = list(provider.spec.failure_domains)
        for pool in shape.pools:
            limit, field = _pool_limit(class_spec, pool.name)
            if limit is None or limit.percent or not _spread(pool, domains) or (class_name, pool.name) in reported:
                continue
            reported.add((class_name, pool.name))
            message = (
                f"maxUnhealthy {limit.value} is a count, but pool {pool.name} is split over {len(domains)} failure "
                f"domains on provider {provider.metadata.name} and CAPI checks each domain on its own (up to "
                f"{limit.value} per domain); give a percentage, which keeps its meaning per domain"
            )
            yield class_entry.origin.diagnostic(field, message)


def _pool_limit(class_spec: ClusterClassSpec, pool: str) -> tuple[Amount | None, tuple[str, ...]]:
    """The ``maxUnhealthy`` that holds for a pool (its own health check's, else the class's) and where it is set."""
    own = class_spec.workers[pool].health_check
    if own is not None:
        return own.max_unhealthy, ("spec", "workers", pool, "healthCheck", "maxUnhealthy")
    return class_spec.health_check.max_unhealthy, ("spec", "healthCheck", "maxUnhealthy")


NO_REMEDIATION = "health-check.no-remediation"
"""The code of :func:`remediation_never_allowed`'s warning."""


def remediation_never_allowed(fleet: Fleet) -> Iterator[Diagnostic]:
    """A percentage ``maxUnhealthy`` that allows no remediation in a pool's smallest MachineDeployment (warned once
    per class and pool, naming the clusters and the smallest percentage that would allow one)."""
    found: dict[tuple[str, str], list[tuple[str, int]]] = {}
    for entry, shape, provider in _clusters(fleet):
        class_name = entry.document.spec.class_
        class_spec = fleet.classes[class_name].document.spec
        domains = list(provider.spec.failure_domains)
        for pool in shape.pools:
            limit, _ = _pool_limit(class_spec, pool.name)
            if pool.machine_pool or limit is None or not limit.percent:
                continue
            size = smallest_deployment(pool, domains)
            if limit.of(size) == 0:
                found.setdefault((class_name, pool.name), []).append((entry.document.metadata.name, size))
    for (class_name, pool_name), clusters in found.items():
        class_entry = fleet.classes[class_name]
        limit, field = _pool_limit(class_entry.document.spec, pool_name)
        own = class_entry.document.spec.workers[pool_name].health_check is not None
        wanted = math.ceil(100 / min(size for _, size in clusters))
        sizes = ", ".join(f"{name} {size}" for name, size in clusters[:3])
        more = f" and {len(clusters) - 3} more" if len(clusters) > 3 else ""
        fix = (
            f"raise it to at least {wanted}%"
            if own
            else f"give pool {pool_name} its own healthCheck with maxUnhealthy of at least {wanted}%"
        )
        message = (
            f"maxUnhealthy {limit} allows no remediation in pool {pool_name}'s smallest MachineDeployments: {limit} of "
            f"their Machines rounds down to 0, so CAPI flags a failed worker there and never replaces it (Machines per "
            f"MachineDeployment at the pool's minimum: {sizes}{more}); {fix}"
        )
        yield class_entry.origin.diagnostic(field, message, severity=Severity.WARNING, code=NO_REMEDIATION)


def smallest_deployment(pool: PoolShape, domains: list[str]) -> int:
    """The fewest Machines one of the pool's MachineDeployments holds while it holds any: its share of the pool's
    minimum (replicas, or the autoscaler's minimum; the renderer splits a spread pool with larger shares first)."""
    total = pool.autoscaling.min if pool.autoscaling is not None else pool.replicas or 1
    shares = len(domains) if _spread(pool, domains) else 1
    return max(total // shares, 1)


def _may_reach_zero(pool: PoolShape, domains: list[str]) -> bool:
    if pool.autoscaling is None:
        return False
    shares = len(domains) if _spread(pool, domains) else 1
    return pool.autoscaling.min // shares == 0


def gcp_scale_from_zero(fleet: Fleet) -> Iterator[Diagnostic]:
    """A GCP pool that may scale from zero names a machine type whose capacity the Provider gives."""
    reported: set[tuple[str, str]] = set()
    for entry, shape, provider in _clusters(fleet):
        spec = provider.spec
        if not isinstance(spec, GcpSpec):
            continue
        for pool in shape.pools:
            machine_type = spec.sizes.get(pool.size)
            if machine_type is None or not _may_reach_zero(pool, list(spec.failure_domains)):
                continue
            if machine_type in spec.settings.machine_capacities or (provider.metadata.name, machine_type) in reported:
                continue
            reported.add((provider.metadata.name, machine_type))
            message = (
                f"pool {pool.name} of cluster {entry.document.metadata.name} may scale from zero on {machine_type}, "
                "and the cluster autoscaler needs its capacity to do so (CAPG publishes none): add "
                f"{machine_type}: {{cpu: ..., memoryMiB: ...}} here"
            )
            provider_entry = fleet.providers[entry.document.spec.provider]
            yield provider_entry.origin.diagnostic(("spec", "settings", "machineCapacities"), message)
