"""Read-only accessors for a Cluster's ``spec.topology`` and a ClusterClass (CAPI ``internal/contract`` style).

Impact, revisions, policy and the rollout order read a Cluster's version, class, control-plane replicas and
MachineDeployments through these functions and never through ad-hoc ``obj["spec"]["topology"]…``, so they
work the same on a freshly compiled fleet and on a built tree read back from disk. Tolerant of missing or
mistyped fields (a built tree may hold anything): every accessor has a default.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from fleetc.contract.vocabulary import AUTOSCALER_MAX, AUTOSCALER_MIN, CAPI_GROUP, DEFER_UPGRADE, HOLD_UPGRADE_SEQUENCE
from fleetc.core.keys import Manifest, ObjectKey


@dataclass(frozen=True)
class MachineRange:
    """A number of machines, exact or a range (an autoscaled pool has min..max)."""

    low: int
    high: int

    def __add__(self, other: MachineRange) -> MachineRange:
        return MachineRange(self.low + other.low, self.high + other.high)

    def times(self, factor: int) -> MachineRange:
        """This many machines, ``factor`` times over (a chained upgrade replaces them once per step)."""
        return MachineRange(self.low * factor, self.high * factor)

    def __str__(self) -> str:
        return f"{self.low:,}" if self.low == self.high else f"{self.low:,}–{self.high:,}"


NO_MACHINES = MachineRange(0, 0)


@dataclass(frozen=True)
class MachineDeployment:
    """One ``spec.topology.workers.machineDeployments`` entry of a Cluster."""

    name: str
    pool: str
    machines: MachineRange
    failure_domain: str | None
    annotations: Mapping[str, str]

    @property
    def upgrade_deferred(self) -> bool:
        """True when CAPI is told not to upgrade this MachineDeployment (defer or hold annotation)."""
        return DEFER_UPGRADE in self.annotations or HOLD_UPGRADE_SEQUENCE in self.annotations


def is_cluster(key: ObjectKey) -> bool:
    """True for a CAPI Cluster."""
    return key.group == CAPI_GROUP and key.kind == "Cluster"


def is_cluster_class(key: ObjectKey) -> bool:
    """True for a CAPI ClusterClass."""
    return key.group == CAPI_GROUP and key.kind == "ClusterClass"


def clusters(objects: Mapping[ObjectKey, Manifest]) -> dict[ObjectKey, Manifest]:
    """Every CAPI Cluster of a set, by key."""
    return {key: manifest for key, manifest in objects.items() if is_cluster(key)}


def _dig(manifest: Manifest, *path: str) -> Any:
    value: Any = manifest
    for step in path:
        if not isinstance(value, dict):
            return None
        value = value.get(step)
    return value


def topology(cluster: Manifest) -> dict[str, Any]:
    """``spec.topology`` (empty when the Cluster has none)."""
    value = _dig(cluster, "spec", "topology")
    return value if isinstance(value, dict) else {}


def version(cluster: Manifest) -> str | None:
    """The Kubernetes version the Cluster asks for."""
    value = topology(cluster).get("version")
    return value if isinstance(value, str) and value else None


def class_ref(cluster: Manifest) -> ObjectKey | None:
    """The ClusterClass the Cluster uses (its namespace defaults to the Cluster's)."""
    ref = topology(cluster).get("classRef")
    if not isinstance(ref, dict) or not isinstance(ref.get("name"), str):
        return None
    namespace = ref.get("namespace") or _dig(cluster, "metadata", "namespace") or ""
    return ObjectKey(CAPI_GROUP, "ClusterClass", str(namespace), ref["name"])


def control_plane_replicas(cluster: Manifest) -> int:
    """Control-plane machines (CAPI's default is 1 when unset)."""
    value = _dig(cluster, "spec", "topology", "controlPlane", "replicas")
    return value if isinstance(value, int) and not isinstance(value, bool) else 1


def rotate_after(cluster: Manifest) -> str | None:
    """The control plane's ``rollout.after`` (machine rotation date), if any."""
    value = _dig(cluster, "spec", "topology", "controlPlane", "rollout", "after")
    return value if isinstance(value, str) and value else None


def _int(text: Any) -> int | None:
    try:
        return int(text)
    except (TypeError, ValueError):
        return None


def _machines(entry: Mapping[str, Any], annotations: Mapping[str, str]) -> MachineRange:
    replicas = entry.get("replicas")
    if isinstance(replicas, int) and not isinstance(replicas, bool):
        return MachineRange(replicas, replicas)
    low, high = _int(annotations.get(AUTOSCALER_MIN)), _int(annotations.get(AUTOSCALER_MAX))
    if low is not None and high is not None:
        return MachineRange(low, high)
    return MachineRange(1, 1)


def _worker_topologies(cluster: Manifest, kind: str) -> dict[str, MachineDeployment]:
    entries = _dig(cluster, "spec", "topology", "workers", kind)
    out: dict[str, MachineDeployment] = {}
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            continue
        annotations = _dig(entry, "metadata", "annotations")
        annotations = annotations if isinstance(annotations, dict) else {}
        domain = entry.get("failureDomain")
        domains = entry.get("failureDomains")
        if isinstance(domains, list):  # a MachinePool spans its domains
            domain = ",".join(str(d) for d in domains)
        out[entry["name"]] = MachineDeployment(
            entry["name"],
            str(entry.get("class", "")),
            _machines(entry, annotations),
            domain if isinstance(domain, str) else None,
            annotations,
        )
    return out


def machine_deployments(cluster: Manifest) -> dict[str, MachineDeployment]:
    """The Cluster's MachineDeployment topologies by name, in list order (CAPI upgrades them in this order)."""
    return _worker_topologies(cluster, "machineDeployments")


def machine_pools(cluster: Manifest) -> dict[str, MachineDeployment]:
    """The Cluster's MachinePool topologies by name (``failure_domain``: their domains, comma-separated)."""
    return _worker_topologies(cluster, "machinePools")


def worker_groups(cluster: Manifest) -> dict[str, MachineDeployment]:
    """MachineDeployment and MachinePool topologies together: CAPI upgrades both after the control plane."""
    return {**machine_deployments(cluster), **machine_pools(cluster)}


def worker_machines(cluster: Manifest) -> MachineRange:
    """Worker machines over every MachineDeployment and MachinePool."""
    total = NO_MACHINES
    for deployment in worker_groups(cluster).values():
        total += deployment.machines
    return total


def variables(cluster: Manifest) -> dict[str, Any]:
    """``spec.topology.variables`` as name → value."""
    entries = topology(cluster).get("variables")
    return {
        e["name"]: e.get("value")
        for e in (entries if isinstance(entries, list) else [])
        if isinstance(e, dict) and isinstance(e.get("name"), str)
    }


def kubernetes_versions(cluster_class: Manifest | None) -> tuple[str, ...] | None:
    """A ClusterClass's ``spec.kubernetesVersions`` (chained upgrades), None when it lists none."""
    if cluster_class is None:
        return None
    value = _dig(cluster_class, "spec", "kubernetesVersions")
    return tuple(str(v) for v in value) if isinstance(value, list) and value else None


def patch_strings(cluster_class: Manifest | None) -> Iterator[str]:
    """Every string in a ClusterClass's patches (to find which variables a patch reads)."""
    stack: list[Any] = [_dig(cluster_class, "spec", "patches") if cluster_class else None]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
