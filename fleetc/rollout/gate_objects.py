"""What a health gate reads and answers: one workload cluster's CAPI objects, the target, findings and verdicts.

Also the small readers of CAPI status every check shares (conditions, versions, replica counters), each giving a
:class:`Finding` when something is not as wanted. Pure data and functions.
Callers: :mod:`fleetc.rollout.gates` (the verdict), :mod:`fleetc.rollout.gate_failures` and
:mod:`fleetc.rollout.gate_completion` (the checks), and through :mod:`fleetc.rollout.gates` the controller and CLI.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from fleetc.contract.conditions import get_condition
from fleetc.contract.objects import spec_version, status_versions
from fleetc.contract.vocabulary import CLUSTER_NAME_LABEL, CONTROL_PLANE_LABEL, WORKLOAD_KINDS
from fleetc.core.keys import Manifest

CANNOT_BE_REMEDIATED = "CannotBeRemediated"
RECONCILE_FAILED = "ReconcileFailed"


class Health(StrEnum):
    """A gate's answer."""

    HEALTHY = "healthy"
    PROGRESSING = "progressing"
    FAILED = "failed"


@dataclass(frozen=True)
class Target:
    """What the cluster should run: a Kubernetes version and optionally a ClusterClass revision.

    ``since`` (seconds since the epoch) is when this cluster's rollout (attempt) started: a failure signal raised
    before it (a condition's ``lastTransitionTime``, a remediation's time) is history, not a failure of this attempt.
    None counts every signal. ``preexisting`` names the Machines that existed when the attempt started: their
    failures are history too (a retry is about to replace them) unless they had joined and broke since, and a
    KubeadmControlPlane remediation of one of them is not a failure of this attempt even after the Machine is gone.
    ``worker_remediations`` is how many worker Machines of this attempt CAPI may remediate (replace) before the
    cluster counts as failed; None: :func:`worker_remediation_budget`'s default.
    """

    version: str
    class_ref: str | None = None
    since: float | None = None
    preexisting: frozenset[str] = frozenset()
    worker_remediations: int | None = None


class Evidence(StrEnum):
    """What a finding rests on; a reason prefers a reported condition over a stale status (see :func:`telling`)."""

    FIELD = "field"
    """A spec or status field, or a condition not reported yet."""
    CONDITION = "condition"
    """A CAPI condition as reported, with its status and reason: CAPI's own explanation."""
    STALE = "stale"
    """A status (or condition) not observed for the object's current generation yet."""


@dataclass(frozen=True)
class Finding:
    """The object and the condition (or field) a verdict rests on."""

    subject: str
    """``Machine eu-prod-1-7fvxk-zr6gm``."""
    condition: str
    """``HealthCheckSucceeded=False (NodeStartupTimeout)``, or a field such as ``status.versions``."""
    message: str = ""
    evidence: Evidence = field(default=Evidence.FIELD, compare=False)

    def __str__(self) -> str:
        text = f"{self.subject}: {self.condition}"
        return f"{text}: {self.message}" if self.message else text


@dataclass(frozen=True)
class Verdict:
    """The gate's answer for one cluster: the whole cluster, its control plane alone, and why."""

    cluster: str
    health: Health
    control_plane: Health
    """The control plane's own answer (the fixtures README's "CP" column); the controller's deadline reads it."""
    finding: Finding | None = None
    """Why it is not healthy (None when healthy)."""

    @property
    def reason(self) -> str:
        """``cluster eu-prod-1: Machine eu-prod-1-7fvxk-zr6gm: HealthCheckSucceeded=False (NodeStartupTimeout): …``."""
        if self.finding is None:
            return f"cluster {self.cluster}: healthy"
        return f"cluster {self.cluster}: {self.finding}"


@dataclass(frozen=True)
class ClusterObjects:
    """The CAPI objects of one workload cluster, as a fixture folder holds them."""

    cluster: Manifest | None
    control_planes: tuple[Manifest, ...] = ()
    machines: tuple[Manifest, ...] = ()
    machine_deployments: tuple[Manifest, ...] = ()
    machine_sets: tuple[Manifest, ...] = ()
    health_checks: tuple[Manifest, ...] = ()
    machine_pools: tuple[Manifest, ...] = ()
    remediated: tuple[Manifest, ...] = ()
    """Machines gone since they were seen with ``HealthCheckSucceeded=False`` (their last state, oldest first):
    CAPI deletes a flagged worker at once, so only whoever watched it knows it was replaced (a reader's memory,
    kept by :class:`fleetc.rollout.cache.WorkloadCache`)."""

    @classmethod
    def of(cls, manifests: Iterable[Manifest], remediated: Iterable[Manifest] = ()) -> ClusterObjects:
        """Sort a flat list of one cluster's objects by kind (objects of other kinds are ignored)."""
        return cls.of_ordered(sorted(manifests, key=order_key), remediated)

    @classmethod
    def of_ordered(cls, manifests: Iterable[Manifest], remediated: Iterable[Manifest] = ()) -> ClusterObjects:
        """:meth:`of` for objects already in :func:`order_key` order (an index that keeps them so saves the sort)."""
        by_kind: dict[str, list[Manifest]] = {kind: [] for _, kind in WORKLOAD_KINDS}
        for manifest in manifests:
            found = by_kind.get(manifest.get("kind"))  # type: ignore[arg-type]  # a kind is a str when present
            if found is not None:
                found.append(manifest)
        clusters = by_kind["Cluster"]
        return cls(
            cluster=clusters[0] if clusters else None,
            control_planes=tuple(by_kind["KubeadmControlPlane"]),
            machines=tuple(by_kind["Machine"]),
            machine_deployments=tuple(by_kind["MachineDeployment"]),
            machine_sets=tuple(by_kind["MachineSet"]),
            health_checks=tuple(by_kind["MachineHealthCheck"]),
            machine_pools=tuple(by_kind["MachinePool"]),
            remediated=tuple(sorted(remediated, key=order_key)),
        )

    @property
    def name(self) -> str:
        """The workload cluster's name (from the Cluster, else from any object's cluster-name label)."""
        if self.cluster is not None:
            name: str = self.cluster["metadata"]["name"]
            return name
        for obj in (*self.control_planes, *self.machines, *self.machine_deployments):
            label = obj["metadata"].get("labels", {}).get(CLUSTER_NAME_LABEL)
            if label:
                return str(label)
        return "?"

    @property
    def control_plane(self) -> Manifest | None:
        """The KubeadmControlPlane the Cluster references (or the only one)."""
        wanted = (self.cluster or {}).get("spec", {}).get("controlPlaneRef", {}).get("name")
        for candidate in self.control_planes:
            if wanted is None or candidate["metadata"]["name"] == wanted:
                return candidate
        return None

    def control_plane_machines(self) -> list[Manifest]:
        """Control plane Machines, oldest first."""
        return [m for m in self.machines if CONTROL_PLANE_LABEL in m["metadata"].get("labels", {})]

    def worker_machines(self) -> list[Manifest]:
        """Every other Machine, oldest first."""
        return [m for m in self.machines if CONTROL_PLANE_LABEL not in m["metadata"].get("labels", {})]


DEFAULT_WORKER_REMEDIATION_SHARE = 10
"""Percent of a cluster's worker replicas CAPI may remediate in one attempt by default (at least one Machine)."""


def worker_remediation_budget(objects: ClusterObjects, target: Target) -> int:
    """How many worker remediations an attempt tolerates: the target's, else 10% of the worker replicas, at least 1."""
    if target.worker_remediations is not None:
        return target.worker_remediations
    replicas = sum(int(md.get("spec", {}).get("replicas", 0) or 0) for md in objects.machine_deployments)
    return max(1, replicas * DEFAULT_WORKER_REMEDIATION_SHARE // 100)


def health_check_failed(machine: Manifest) -> bool:
    """The Machine carries ``HealthCheckSucceeded=False`` (a MachineHealthCheck flagged it)."""
    check = get_condition(machine, "HealthCheckSucceeded")
    return check is not None and check.get("status") == "False"


def order_key(obj: Manifest) -> tuple[str, str]:
    """The order of the objects of one kind in :class:`ClusterObjects`: oldest first, then by name."""
    metadata = obj["metadata"]
    return metadata.get("creationTimestamp", ""), metadata.get("name", "")


# --- reading objects -------------------------------------------------------------------------------------------------


def text(message: str) -> str:
    """A multi-line, indented CAPI condition message on one line (``a:\\n  * b\\n  * c`` → ``a: b; c``)."""
    parts = [line.strip().removeprefix("* ").strip() for line in message.splitlines()]
    result = ""
    for part in filter(None, parts):
        separator = "" if not result else " " if result.endswith(":") else "; "
        result += separator + part
    return result


def describe(condition: dict[str, Any]) -> str:
    return f"{condition.get('type')}={condition.get('status')} ({condition.get('reason', '')})"


def condition_fact(subject: str, condition: dict[str, Any]) -> Finding:
    """A finding that is a reported condition: ``Type=Status (Reason): message``."""
    return Finding(subject, describe(condition), text(condition.get("message", "")), Evidence.CONDITION)


def telling(findings: Iterable[Finding]) -> Finding | None:
    """The finding a reason names: the first one, unless it is a stale status and a reported condition follows
    (on real CAPI a controller may not have observed a new object yet while another object's condition already
    says why it is not ready); staleness is named only when no condition explains the state."""
    first: Finding | None = None
    for finding in findings:
        if first is None:
            first = finding
            if finding.evidence is not Evidence.STALE:
                return finding
        elif finding.evidence is Evidence.CONDITION:
            return finding
    return first


def condition_finding(subject: str, obj: Manifest, condition_type: str, wanted: str) -> Finding | None:
    """A finding when the condition is missing or not ``wanted``."""
    condition = get_condition(obj, condition_type)
    if condition is None:
        return Finding(subject, condition_type, "not reported yet")
    if condition.get("status") != wanted:
        return condition_fact(subject, condition)
    return None


def subject_of(obj: Manifest) -> str:
    return f"{obj['kind']} {obj['metadata']['name']}"


def machine_version(machine: Manifest) -> str | None:
    return spec_version(machine)


def versions_of(obj: Manifest) -> list[tuple[str, int]]:
    return [(v["version"], v["replicas"]) for v in status_versions(obj)]


def show_versions(versions: list[tuple[str, int]]) -> str:
    return "[" + ", ".join(f"{version}: {count}" for version, count in versions) + "]"


def generation_finding(obj: Manifest) -> Finding | None:
    generation = obj["metadata"].get("generation")
    observed = obj.get("status", {}).get("observedGeneration")
    if generation is not None and observed != generation:
        message = f"{observed}, generation is {generation}"
        return Finding(subject_of(obj), "status.observedGeneration", message, Evidence.STALE)
    return None


def counter_finding(obj: Manifest, desired: int | None, counters: tuple[str, ...]) -> Finding | None:
    if desired is None:
        return None
    status = obj.get("status", {})
    off = [f"{name} {status.get(name, 0)}" for name in counters if status.get(name, 0) != desired]
    if off:
        return Finding(subject_of(obj), "status replicas", f"{', '.join(off)}; want {desired}")
    return None


def version_finding(obj: Manifest, version: str, replicas: int | None) -> Finding | None:
    """Unless ``status.versions`` is ``[version: replicas]``: what it is instead. With no replicas it must be empty:
    CAPI v1.14 aggregates it from the Machines, and none give none (``AggregateStatusVersions`` returns nil)."""
    versions = versions_of(obj)
    if replicas is None:
        return None
    wanted = [(version, replicas)] if replicas else []
    if versions != wanted:
        return Finding(subject_of(obj), "status.versions", f"{show_versions(versions)}, want {show_versions(wanted)}")
    return None
