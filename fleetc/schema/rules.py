"""Semantic rules that need the whole fleet of one revision (docs/design.md §3): references, versions, waves…

Each rule is a pure function yielding diagnostics. References to a document that failed its own
validation are forgiven (``broken``), so one typo reports once, not once per cluster using it.
"""

from __future__ import annotations

import ipaddress
import itertools
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from fleetc.contract.versions import Version, require_version
from fleetc.core.diagnostics import Diagnostic, Severity
from fleetc.schema.cluster import ClusterDocument
from fleetc.schema.cluster_class import ClusterClassDocument
from fleetc.schema.dates import today
from fleetc.schema.fleet import FleetDocument
from fleetc.schema.lifecycle import lifecycle_rules
from fleetc.schema.model import Entry, Fleet
from fleetc.schema.pools import pool_rules
from fleetc.schema.provider import DEV_TYPES, ProviderDocument
from fleetc.schema.shape import ClusterShape, shape_of
from fleetc.schema.suggest import did_you_mean

CAPI_SUPPORTED_MINORS = range(31, 37)
"""Workload Kubernetes minors CAPI v1.14 supports (v1.31–v1.36)."""

_VARIABLE_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
}


@dataclass(frozen=True)
class Scope:
    """The fleet under check and the names of documents that failed their own validation."""

    fleet: Fleet
    broken: frozenset[tuple[str, str]] = frozenset()
    now: datetime | None = None
    """The date the lifecycle rules check against (:mod:`fleetc.schema.lifecycle`); None: today, UTC."""


def check(scope: Scope) -> list[Diagnostic]:
    """Run every rule over the fleet."""
    rules: list[Callable[[Scope], Iterable[Diagnostic]]] = [
        version_rules,
        wave_rules,
        provider_rules,
        class_rules,
        cluster_rules,
        endpoint_rules,
        lambda s: pool_rules(s.fleet),
        lambda s: lifecycle_rules(s.fleet, s.now or today()),
    ]
    return [d for rule in rules for d in rule(scope)]


def version_rules(scope: Scope) -> Iterator[Diagnostic]:
    """The catalogue ascends; channels and the default channel resolve; chained upgrades have every minor."""
    entry = scope.fleet.settings
    versions = entry.document.spec.versions
    field = ("spec", "versions")
    parsed = [require_version(v) for v in versions.catalogue]
    for index in range(1, len(parsed)):
        if parsed[index] <= parsed[index - 1]:
            previous = versions.catalogue[index - 1]
            message = f"{versions.catalogue[index]} is not above {previous}; list versions ascending, once each"
            yield entry.origin.diagnostic((*field, "catalogue", index), message)
    for index, parsed_version in enumerate(parsed):
        if parsed_version.major != 1 or parsed_version.minor not in CAPI_SUPPORTED_MINORS:
            message = f"{versions.catalogue[index]} is outside the workload versions CAPI v1.14 supports (v1.31–v1.36)"
            yield entry.origin.diagnostic((*field, "catalogue", index), message, severity=Severity.WARNING)
    for name, version in versions.channels.items():
        if version not in versions.catalogue:
            yield entry.origin.diagnostic(
                (*field, "channels", name), f"channel {name}: {version} is not in the catalogue"
            )
    default = entry.document.spec.defaults.channel
    if default is not None and default not in versions.channels:
        message = f"no channel '{default}'{did_you_mean(default, list(versions.channels))}"
        yield entry.origin.diagnostic(("spec", "defaults", "channel"), message)
    if versions.chained_upgrades:
        yield from _minor_gaps(entry, parsed)


_GAP_LISTED = 3
"""Up to this many missing minors in one gap are reported one by one; a wider gap is reported once."""


def _minor_gaps(entry: Entry[FleetDocument], parsed: list[Version]) -> Iterator[Diagnostic]:
    minors = sorted({(v.major, v.minor) for v in parsed})
    for (major, low), (other, high) in itertools.pairwise(minors):
        if other != major:
            continue
        if high - low - 1 > _GAP_LISTED:
            message = (
                f"no version for v{major}.{low + 1} to v{major}.{high - 1} ({high - low - 1:,} minors); "
                "chained upgrades need one for every minor (CAPI webhook)"
            )
            yield entry.origin.diagnostic(("spec", "versions", "catalogue"), message)
            continue
        for missing in range(low + 1, high):
            message = f"no version for v{major}.{missing}; chained upgrades need one for every minor (CAPI webhook)"
            yield entry.origin.diagnostic(("spec", "versions", "catalogue"), message)


def wave_rules(scope: Scope) -> Iterator[Diagnostic]:
    """Wave names are unique; a wave that selects no cluster (a typo such as ``ring: canery``) is a warning."""
    entry = scope.fleet.settings
    seen: set[str] = set()
    waves = entry.document.spec.rollout.waves
    for index, wave in enumerate(waves):
        if wave.name in seen:
            yield entry.origin.diagnostic(
                ("spec", "rollout", "waves", index, "name"), f"wave '{wave.name}' is defined twice"
            )
        seen.add(wave.name)
    if not scope.fleet.clusters or any(kind in ("Cluster", "ClusterSet") for kind, _ in scope.broken):
        return  # an empty fleet, or clusters that failed their own validation, would make any wave look empty
    used = {id(w) for cluster in scope.fleet.clusters.values() for w in scope.fleet.waves_of(cluster.document)}
    for index, wave in enumerate(waves):
        if id(wave) not in used:
            message = f"wave '{wave.name}' selects no cluster of the fleet; check its selector for a typo"
            yield entry.origin.diagnostic(("spec", "rollout", "waves", index), message, severity=Severity.WARNING)


def provider_rules(scope: Scope) -> Iterator[Diagnostic]:
    """Cloud providers map sizes; failure domains are listed once."""
    for entry in scope.fleet.providers.values():
        spec = entry.document.spec
        if spec.type not in DEV_TYPES and not spec.sizes:
            article = "an" if spec.type[0] in "aeiou" else "a"
            message = f"{article} {spec.type} provider must map sizes to machine types"
            yield entry.origin.diagnostic(("spec", "sizes"), message)
        for domain in sorted(d for d, n in Counter(spec.failure_domains).items() if n > 1):
            yield entry.origin.diagnostic(("spec", "failureDomains"), f"failure domain '{domain}' is listed twice")


def class_rules(scope: Scope) -> Iterator[Diagnostic]:
    """Class-level shape rules: odd control plane, disjoint networks, variable defaults of the right type."""
    for entry in scope.fleet.classes.values():
        spec = entry.document.spec
        if spec.control_plane.replicas % 2 == 0:
            yield entry.origin.diagnostic(
                ("spec", "controlPlane", "replicas"), _even_message(spec.control_plane.replicas)
            )
        overlap = _overlap(spec.network.pods, spec.network.services)
        if overlap:
            yield entry.origin.diagnostic(("spec", "network"), overlap)
        for name, variable in spec.variables.items():
            if variable.default is not None and not _has_type(variable.default, variable.type):
                yield entry.origin.diagnostic(
                    ("spec", "variables", name, "default"), f"default is not of type {variable.type}"
                )


def _even_message(replicas: int) -> str:
    return f"control plane replicas must be odd for etcd quorum (got {replicas})"


def _overlap(pods: Iterable[str], services: Iterable[str]) -> str | None:
    for pod in pods:
        for service in services:
            if ipaddress.ip_network(pod).overlaps(ipaddress.ip_network(service)):
                return f"pod CIDR {pod} overlaps service CIDR {service}"
    return None


def _has_type(value: object, type_name: str) -> bool:
    if isinstance(value, bool) and type_name != "boolean":
        return False
    return isinstance(value, _VARIABLE_TYPES[type_name])


def cluster_rules(scope: Scope) -> Iterator[Diagnostic]:
    """References, version, wave membership, and the shape after overrides, cluster by cluster."""
    for entry in scope.fleet.clusters.values():
        yield from _reference_problems(scope, entry)
        yield from _version_problems(scope, entry)
        yield from _wave_problems(scope, entry)
        cluster_class = scope.fleet.classes.get(entry.document.spec.class_)
        if cluster_class is not None:
            yield from _override_problems(entry, cluster_class.document)
            provider = scope.fleet.providers.get(entry.document.spec.provider)
            if provider is not None:
                yield from _placement_problems(
                    entry, shape_of(entry.document, cluster_class.document), provider.document
                )


def _reference_problems(scope: Scope, entry: Entry[ClusterDocument]) -> Iterator[Diagnostic]:
    spec = entry.document.spec
    for kind, name, known, field in (
        ("ClusterClass", spec.class_, scope.fleet.classes, "class"),
        ("Provider", spec.provider, scope.fleet.providers, "provider"),
    ):
        if name not in known and (kind, name) not in scope.broken:
            yield entry.origin.diagnostic(("spec", field), f"no {kind} '{name}'{did_you_mean(name, list(known))}")


def _version_problems(scope: Scope, entry: Entry[ClusterDocument]) -> Iterator[Diagnostic]:
    spec, versions = entry.document.spec, scope.fleet.settings.document.spec.versions
    if spec.version is not None and spec.version not in versions.catalogue:
        yield entry.origin.diagnostic(("spec", "version"), f"{spec.version} is not in the fleet's version catalogue")
    channel = scope.fleet.channel_of(entry.document)
    if spec.version is None and channel is None:
        yield entry.origin.diagnostic(("spec",), "set version or channel (the fleet has no default channel)")
    if spec.channel is not None and spec.channel not in versions.channels:
        yield entry.origin.diagnostic(
            ("spec", "channel"),
            f"no channel '{spec.channel}'{did_you_mean(spec.channel, list(versions.channels))}",
        )


def _wave_problems(scope: Scope, entry: Entry[ClusterDocument]) -> Iterator[Diagnostic]:
    waves = scope.fleet.waves_of(entry.document)
    if not waves:
        labels = ", ".join(f"{k}={v}" for k, v in sorted(scope.fleet.labels_of(entry.document).items())) or "none"
        yield entry.origin.diagnostic(("metadata", "labels"), f"matches no rollout wave (labels: {labels})")
    elif len(waves) > 1:
        names = ", ".join(w.name for w in waves)
        yield entry.origin.diagnostic(
            ("metadata", "labels"),
            f"matches more than one rollout wave ({names}); every cluster needs exactly one",
        )


def _override_problems(entry: Entry[ClusterDocument], cluster_class: ClusterClassDocument) -> Iterator[Diagnostic]:
    spec, shape = entry.document.spec, cluster_class.spec
    for pool in spec.workers:
        if pool not in shape.workers:
            hint = did_you_mean(pool, list(shape.workers))
            message = f"class {cluster_class.metadata.name} has no worker pool '{pool}'{hint}"
            yield entry.origin.diagnostic(("spec", "workers", pool), message, at_key=True)
    if spec.control_plane.replicas is not None and spec.control_plane.replicas % 2 == 0:
        yield entry.origin.diagnostic(("spec", "controlPlane", "replicas"), _even_message(spec.control_plane.replicas))
    if spec.network.pods or spec.network.services:
        overlap = _overlap(spec.network.pods or shape.network.pods, spec.network.services or shape.network.services)
        if overlap:
            yield entry.origin.diagnostic(("spec", "network"), overlap)
    yield from _variable_problems(entry, cluster_class)


def _variable_problems(entry: Entry[ClusterDocument], cluster_class: ClusterClassDocument) -> Iterator[Diagnostic]:
    declared, given = cluster_class.spec.variables, entry.document.spec.variables
    for name, value in given.items():
        variable = declared.get(name)
        if variable is None:
            message = (
                f"class {cluster_class.metadata.name} declares no variable '{name}'{did_you_mean(name, list(declared))}"
            )
            yield entry.origin.diagnostic(("spec", "variables", name), message, at_key=True)
        elif not _has_type(value, variable.type):
            yield entry.origin.diagnostic(
                ("spec", "variables", name), f"variable {name} must be of type {variable.type}"
            )
    for name, variable in declared.items():
        if variable.required and variable.default is None and name not in given:
            yield entry.origin.diagnostic(
                ("spec", "variables"), f"class {cluster_class.metadata.name} requires variable '{name}'"
            )


def _placement_problems(
    entry: Entry[ClusterDocument], shape: ClusterShape, provider: ProviderDocument
) -> Iterator[Diagnostic]:
    spec = provider.spec
    unmapped = _unmapped_sizes(shape, spec.sizes, spec.type)
    for field, size in unmapped:
        known = ", ".join(spec.sizes) or "none"
        message = f"size '{size}' is not mapped by provider {provider.metadata.name} (sizes: {known})"
        yield entry.origin.diagnostic(field, message)
    for pool in shape.pools:
        if pool.failure_domain is not None and pool.failure_domain not in spec.failure_domains:
            message = f"'{pool.failure_domain}' is not a failure domain of provider {provider.metadata.name}"
            yield entry.origin.diagnostic(("spec", "workers", pool.name, "failureDomain"), message)
    if spec.type == "vsphere" and entry.document.spec.control_plane_endpoint is None:
        yield entry.origin.diagnostic(
            ("spec", "controlPlaneEndpoint"),
            "a vSphere cluster needs a controlPlaneEndpoint (its API address)",
        )


def _unmapped_sizes(
    shape: ClusterShape, sizes: dict[str, str], provider_type: str
) -> list[tuple[tuple[str | int, ...], str]]:
    if not sizes:  # dev providers take any size; a cloud provider without sizes is reported once, on itself
        return []
    wanted: list[tuple[tuple[str | int, ...], str]] = [
        (
            ("spec", "controlPlane", "size") if shape.control_plane_size_overridden else ("spec", "class"),
            shape.control_plane_size,
        )
    ]
    wanted += [
        (("spec", "workers", p.name, "size") if p.size_overridden else ("spec", "class"), p.size) for p in shape.pools
    ]
    return [(field, size) for field, size in wanted if size not in sizes]


def endpoint_rules(scope: Scope) -> Iterator[Diagnostic]:
    """No two clusters share a control-plane endpoint."""
    users: dict[tuple[str, int], list[Entry[ClusterDocument]]] = defaultdict(list)
    for entry in scope.fleet.clusters.values():
        endpoint = entry.document.spec.control_plane_endpoint
        if endpoint is not None:
            users[(endpoint.host, endpoint.port)].append(entry)
    for (host, port), entries in users.items():
        for entry in entries[1:]:
            first = entries[0].document.metadata.name
            yield entry.origin.diagnostic(
                ("spec", "controlPlaneEndpoint", "host"),
                f"{host}:{port} is already the endpoint of cluster {first}",
            )
