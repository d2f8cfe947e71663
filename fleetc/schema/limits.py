"""Rules on the names fleetc generates: within every limit, unique where an API keys on them.

- No worker pool is called ``control-plane``: its templates would take the control plane's names.
- The MachineDeployment topology names of a cluster (:func:`fleetc.schema.naming.deployment_name`) are unique:
  CAPI keys ``topology.workers.machineDeployments`` on them, so a pool named like another pool plus a failure
  domain (``general-a`` beside ``general`` spread over ``a``) would make one overwrite the other.
- A cluster's name fits the names its provider derives from it (:data:`CLUSTER_NAME_LIMITS`), each limit cited.

Caller: :func:`fleetc.schema.validate.validate_tree`, after the rules of :mod:`fleetc.schema.rules`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from fleetc.core.diagnostics import Diagnostic
from fleetc.schema.cluster import ClusterDocument
from fleetc.schema.model import Entry, Fleet
from fleetc.schema.naming import CONTROL_PLANE_ROLE, MAX_LABEL, deployment_name
from fleetc.schema.provider import AzureSpec, GcpSpec, ProviderSpecBase
from fleetc.schema.shape import shape_of

RANDOM_SUFFIX = len("-") + 5
"""CAPI names a topology's infrastructure cluster ``{{ .cluster.name }}-{{ .random }}`` (5 random characters)."""
AZURE_CLUSTER_NAME_LIMIT = 44
"""CAPZ v1.26 ``clusterNameMaxLength``: the AzureCluster's name prefixes VM and other Azure resource names."""
GCP_RESOURCE_NAME_LIMIT = 63
"""Compute Engine resource names: ``[a-z]([-a-z0-9]*[a-z0-9])?``, at most 63 characters."""
GCP_LONGEST_SUFFIX = len("allow-") + len("-healthchecks")
"""CAPG v1.12 names a firewall rule ``allow-<cluster>-healthchecks`` (the longest fixed affix it adds)."""
GCP_INSTANCE_GROUP_AFFIX = len("-apiserver-")
"""CAPG v1.12 names each zone's API server instance group ``<cluster>-apiserver-<zone>``."""


@dataclass(frozen=True)
class NameLimit:
    """The longest cluster name a provider can take, why, and whether it must start with a letter."""

    length: int
    reason: str
    letter_first: bool = False


def _azure_limit(spec: ProviderSpecBase) -> NameLimit:
    return NameLimit(
        AZURE_CLUSTER_NAME_LIMIT - RANDOM_SUFFIX,
        f"CAPZ limits AzureCluster names to {AZURE_CLUSTER_NAME_LIMIT} characters and CAPI adds "
        f"'-' and 5 random characters to the cluster's name",
    )


def _gcp_limit(spec: ProviderSpecBase) -> NameLimit:
    zones = list(spec.failure_domains) or [f"{spec.region or ''}-a"]
    longest = max(zones, key=len)
    by_zone = GCP_RESOURCE_NAME_LIMIT - GCP_INSTANCE_GROUP_AFFIX - len(longest)
    by_firewall = GCP_RESOURCE_NAME_LIMIT - GCP_LONGEST_SUFFIX
    if by_zone < by_firewall:
        reason = f"CAPG names the instance group '<cluster>-apiserver-{longest}'"
    else:
        reason = "CAPG names a firewall rule 'allow-<cluster>-healthchecks'"
    return NameLimit(
        min(by_zone, by_firewall),
        f"{reason} and Compute Engine names have at most {GCP_RESOURCE_NAME_LIMIT} characters",
        letter_first=True,
    )


CLUSTER_NAME_LIMITS: dict[type[ProviderSpecBase], Callable[[ProviderSpecBase], NameLimit]] = {
    AzureSpec: _azure_limit,
    GcpSpec: _gcp_limit,
}
"""Provider spec class → the limit its resources put on a cluster's name (the others take any DNS label)."""


def check(fleet: Fleet) -> list[Diagnostic]:
    """Every naming rule over the fleet."""
    rules: list[Callable[[Fleet], Iterable[Diagnostic]]] = [
        reserved_pool_names,
        deployment_name_collisions,
        cluster_name_limits,
    ]
    return [d for rule in rules for d in rule(fleet)]


def reserved_pool_names(fleet: Fleet) -> Iterator[Diagnostic]:
    """A pool called ``control-plane`` would share its templates' names with the control plane's."""
    for entry in fleet.classes.values():
        if CONTROL_PLANE_ROLE in entry.document.spec.workers:
            message = (
                f"a worker pool may not be called '{CONTROL_PLANE_ROLE}': its templates would take the "
                "control plane's names; rename the pool"
            )
            yield entry.origin.diagnostic(("spec", "workers", CONTROL_PLANE_ROLE), message, at_key=True)


def _deployment_names(cluster: ClusterDocument, fleet: Fleet) -> list[tuple[str, str, str | None]]:
    """``(topology name, pool, failure domain)`` of every MachineDeployment the cluster gets."""
    shape = shape_of(cluster, fleet.classes[cluster.spec.class_].document)
    domains = list(fleet.providers[cluster.spec.provider].document.spec.failure_domains)
    names: list[tuple[str, str, str | None]] = []
    for pool in shape.pools:
        if pool.failure_domain is None and pool.spread_across_failure_domains and domains:
            names += [(deployment_name(pool.name, d), pool.name, d) for d in domains]
        else:
            names.append((deployment_name(pool.name), pool.name, None))
    return names


def _described(pool: str, domain: str | None) -> str:
    return f"pool {pool}" if domain is None else f"pool {pool} in failure domain '{domain}'"


def deployment_name_collisions(fleet: Fleet) -> Iterator[Diagnostic]:
    """Two MachineDeployments of one cluster never share a topology name; reported once per class pool."""
    reported: set[tuple[str, str]] = set()
    for entry in fleet.clusters.values():
        spec = entry.document.spec
        if spec.class_ not in fleet.classes or spec.provider not in fleet.providers:
            continue
        seen: dict[str, tuple[str, str | None]] = {}
        for name, pool, domain in _deployment_names(entry.document, fleet):
            first = seen.setdefault(name, (pool, domain))
            if first == (pool, domain) or (spec.class_, name) in reported:
                continue
            reported.add((spec.class_, name))
            later = pool if domain is None or first[1] is not None else first[0]
            message = (
                f"MachineDeployment name '{name}' is both {_described(*first)} and {_described(pool, domain)} "
                f"on provider {spec.provider} (CAPI keys a cluster's MachineDeployments by name); rename pool {later}"
            )
            yield fleet.classes[spec.class_].origin.diagnostic(("spec", "workers", later), message, at_key=True)


def cluster_name_limits(fleet: Fleet) -> Iterator[Diagnostic]:
    """A cluster's name within the limits of what its provider names after it."""
    for entry in fleet.clusters.values():
        provider = fleet.providers.get(entry.document.spec.provider)
        if provider is None:
            continue
        limit_of = CLUSTER_NAME_LIMITS.get(type(provider.document.spec))
        if limit_of is None:
            continue
        yield from _name_problems(entry, limit_of(provider.document.spec), provider.document.metadata.name)


def _name_problems(entry: Entry[ClusterDocument], limit: NameLimit, provider: str) -> Iterator[Diagnostic]:
    name = entry.document.metadata.name
    if len(name) > min(limit.length, MAX_LABEL):
        message = (
            f"cluster name '{name}' has {len(name)} characters; on provider {provider} at most {limit.length} "
            f"fit: {limit.reason}"
        )
        yield entry.origin.diagnostic(("metadata", "name"), message)
    if limit.letter_first and not name[:1].isalpha():
        message = f"cluster name '{name}' must start with a letter on provider {provider}: Compute Engine names do"
        yield entry.origin.diagnostic(("metadata", "name"), message)
