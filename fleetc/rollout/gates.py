"""Health gates: does one workload cluster run the target revision, healthy? Read from CAPI v1beta2 status only.

Pure functions over the management-cluster objects of one workload cluster (Cluster, KubeadmControlPlane, control
plane and worker Machines, MachineDeployments, MachineSets, MachineHealthChecks): no store, no clock, nothing
specific to the simulation, so the same code judges the embedded plane and a real management cluster.
Callers: the rollout controller (:mod:`fleetc.rollout.controller`, for every cluster in flight, each
time one of its objects changes) and read-side commands that show why a cluster is not done.

The rules follow ``shared/capi/v1.14.0/status-fixtures/README.md`` §3–4 and the CAPI semantics reference §2.4:

- **failed** on an explicit CAPI failure signal raised since the cluster's rollout started (``Target.since``; an
  older signal is history, e.g. the machine a retry after a fix is about to replace): a Machine at the target
  version with ``HealthCheckSucceeded=False`` (its owner's ``OwnerRemediated=False/CannotBeRemediated`` is added to
  the reason), a KubeadmControlPlane ``status.lastRemediation``, or ``TopologyReconciled=False/ReconcileFailed``;
- **healthy** when every completion check holds (spec propagated and observed, ``status.versions`` a single entry
  at the target, replica counters equal, the KCP and Cluster conditions, every Machine at the target with a healthy
  Node, and for the whole cluster the MachineDeployments, no upgrade plan and ``TopologyReconciled=True``);
- **progressing** otherwise, naming the first thing still missing.
Time never enters a verdict: a control plane that never comes up and shows no failure signal (no
MachineHealthCheck) stays progressing, and the rollout controller fails it at the wave's deadline.
Conditions are matched on type/status/reason, never on message text; ``TopologyReconciled=False/ClusterUpgrading``,
KCP ``Available`` and Machine ``phase`` are never failure signals on their own.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from fleetc.contract.conditions import get_condition
from fleetc.contract.objects import spec_version, status_versions
from fleetc.contract.timestamps import parse_timestamp
from fleetc.contract.vocabulary import CLUSTER_NAME_LABEL, CONTROL_PLANE_LABEL, DEPLOYMENT_NAME_LABEL, WORKLOAD_KINDS
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
    None counts every signal.
    """

    version: str
    class_ref: str | None = None
    since: float | None = None


@dataclass(frozen=True)
class Finding:
    """The object and the condition (or field) a verdict rests on."""

    subject: str
    """``Machine eu-prod-1-7fvxk-zr6gm``."""
    condition: str
    """``HealthCheckSucceeded=False (NodeStartupTimeout)``, or a field such as ``status.versions``."""
    message: str = ""

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

    @classmethod
    def of(cls, manifests: Iterable[Manifest]) -> ClusterObjects:
        """Sort a flat list of one cluster's objects by kind (objects of other kinds are ignored)."""
        by_kind: dict[str, list[Manifest]] = {kind: [] for _, kind in WORKLOAD_KINDS}
        for manifest in manifests:
            if manifest.get("kind") in by_kind:
                by_kind[manifest["kind"]].append(manifest)
        clusters = by_kind["Cluster"]
        return cls(
            cluster=clusters[0] if clusters else None,
            control_planes=_sorted(by_kind["KubeadmControlPlane"]),
            machines=_sorted(by_kind["Machine"]),
            machine_deployments=_sorted(by_kind["MachineDeployment"]),
            machine_sets=_sorted(by_kind["MachineSet"]),
            health_checks=_sorted(by_kind["MachineHealthCheck"]),
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


def _sorted(items: list[Manifest]) -> tuple[Manifest, ...]:
    return tuple(
        sorted(items, key=lambda m: (m["metadata"].get("creationTimestamp", ""), m["metadata"].get("name", "")))
    )


def evaluate(objects: ClusterObjects, target: Target) -> Verdict:
    """The verdict for one cluster at ``target``."""
    name = objects.name
    failure = _failure(objects, target)
    control_plane = _first(_control_plane_checks(objects, target))
    cp_health = Health.HEALTHY if control_plane is None else Health.PROGRESSING
    if failure is not None:
        finding, on_control_plane = failure
        return Verdict(name, Health.FAILED, Health.FAILED if on_control_plane else cp_health, finding)
    if control_plane is not None:
        return Verdict(name, Health.PROGRESSING, Health.PROGRESSING, control_plane)
    workers = _first(_worker_checks(objects, target))
    if workers is not None:
        return Verdict(name, Health.PROGRESSING, Health.HEALTHY, workers)
    return Verdict(name, Health.HEALTHY, Health.HEALTHY)


def _first(findings: Iterator[Finding]) -> Finding | None:
    return next(findings, None)


# --- reading objects -------------------------------------------------------------------------------------------------


def text(message: str) -> str:
    """A multi-line, indented CAPI condition message on one line (``a:\\n  * b\\n  * c`` → ``a: b; c``)."""
    parts = [line.strip().removeprefix("* ").strip() for line in message.splitlines()]
    result = ""
    for part in filter(None, parts):
        separator = "" if not result else " " if result.endswith(":") else "; "
        result += separator + part
    return result


def _describe(condition: dict[str, Any]) -> str:
    return f"{condition.get('type')}={condition.get('status')} ({condition.get('reason', '')})"


def _condition_finding(subject: str, obj: Manifest, condition_type: str, wanted: str) -> Finding | None:
    """A finding when the condition is missing or not ``wanted``."""
    condition = get_condition(obj, condition_type)
    if condition is None:
        return Finding(subject, condition_type, "not reported yet")
    if condition.get("status") != wanted:
        return Finding(subject, _describe(condition), text(condition.get("message", "")))
    return None


def _subject(obj: Manifest) -> str:
    return f"{obj['kind']} {obj['metadata']['name']}"


def _version(machine: Manifest) -> str | None:
    return spec_version(machine)


def _versions(obj: Manifest) -> list[tuple[str, int]]:
    return [(v["version"], v["replicas"]) for v in status_versions(obj)]


def _show_versions(versions: list[tuple[str, int]]) -> str:
    return "[" + ", ".join(f"{version}: {count}" for version, count in versions) + "]"


def _generation_finding(obj: Manifest) -> Finding | None:
    generation = obj["metadata"].get("generation")
    observed = obj.get("status", {}).get("observedGeneration")
    if generation is not None and observed != generation:
        return Finding(_subject(obj), "status.observedGeneration", f"{observed}, generation is {generation}")
    return None


def _counter_finding(obj: Manifest, desired: int | None, counters: tuple[str, ...]) -> Finding | None:
    if desired is None:
        return None
    status = obj.get("status", {})
    off = [f"{name} {status.get(name, 0)}" for name in counters if status.get(name, 0) != desired]
    if off:
        return Finding(_subject(obj), "status replicas", f"{', '.join(off)}; want {desired}")
    return None


def _version_finding(obj: Manifest, version: str, replicas: int | None) -> Finding | None:
    versions = _versions(obj)
    if replicas is not None and versions != [(version, replicas)]:
        return Finding(_subject(obj), "status.versions", f"{_show_versions(versions)}, want [{version}: {replicas}]")
    return None


# --- failure signals -------------------------------------------------------------------------------------------------


def _failure(objects: ClusterObjects, target: Target) -> tuple[Finding, bool] | None:
    """The first explicit failure signal and whether it is on the control plane."""
    for machine in (*objects.control_plane_machines(), *objects.worker_machines()):
        finding = _machine_failure(machine, target)
        if finding is not None:
            return finding, CONTROL_PLANE_LABEL in machine["metadata"].get("labels", {})
    control_plane = objects.control_plane
    if control_plane is not None:
        finding = _remediation_failure(control_plane, objects.cluster, objects.machines, target)
        if finding is not None:
            return finding, True
    if objects.cluster is not None:
        condition = get_condition(objects.cluster, "TopologyReconciled")
        failed = condition and condition.get("status") == "False" and condition.get("reason") == RECONCILE_FAILED
        if condition and failed and _fresh(condition.get("lastTransitionTime"), target):
            return Finding(_subject(objects.cluster), _describe(condition), text(condition.get("message", ""))), False
    return None


def _fresh(moment: str | None, target: Target) -> bool:
    """True when a signal raised at ``moment`` belongs to this attempt (unknown times count)."""
    # Strictly after: times have one-second resolution, and a signal stamped in the second an attempt (a retry)
    # started was raised before it — nothing new can fail within a second of starting.
    return target.since is None or not moment or parse_timestamp(moment) > target.since


def _machine_failure(machine: Manifest, target: Target) -> Finding | None:
    """``HealthCheckSucceeded=False`` on a Machine at the target version (and whether its owner gave up)."""
    if _version(machine) != target.version:
        return None
    check = get_condition(machine, "HealthCheckSucceeded")
    if check is None or check.get("status") != "False" or not _fresh(check.get("lastTransitionTime"), target):
        return None
    message = text(check.get("message", ""))
    owner = get_condition(machine, "OwnerRemediated")
    if owner is not None and owner.get("reason") == CANNOT_BE_REMEDIATED:
        message += f"; {_describe(owner)}: {text(owner.get('message', ''))}"
    return Finding(_subject(machine), _describe(check), message)


def _remediation_failure(
    control_plane: Manifest, cluster: Manifest | None, machines: Iterable[Manifest], target: Target
) -> Finding | None:
    """A KubeadmControlPlane remediation since the rollout started: the control plane failed to come up."""
    last = control_plane.get("status", {}).get("lastRemediation")
    if not last or not _fresh(last.get("time"), target):
        return None
    if any(
        m["metadata"]["name"] == last.get("machine") and not _fresh(m["metadata"].get("creationTimestamp"), target)
        for m in machines
    ):
        return None  # the remediated machine predates this attempt
    message = (
        f"Machine {last.get('machine')} failed its health check (HealthCheckSucceeded=False) and was remediated"
        f" at {last['time']} (retry {last.get('retryCount', 0)})"
    )
    initialized = get_condition(cluster, "ControlPlaneInitialized") if cluster else None
    if initialized is not None and initialized.get("status") != "True":
        message += f"; Cluster {_describe(initialized)}: {text(initialized.get('message', ''))}"
    return Finding(_subject(control_plane), "status.lastRemediation", message)


# --- control plane ---------------------------------------------------------------------------------------------------

_KCP_CONDITIONS = (
    ("Available", "True"),
    ("ControlPlaneComponentsHealthy", "True"),
    ("MachinesReady", "True"),
    ("RollingOut", "False"),
    ("MachinesUpToDate", "True"),
)
_REPLICA_COUNTERS = ("replicas", "upToDateReplicas", "readyReplicas", "availableReplicas")


def _control_plane_checks(objects: ClusterObjects, target: Target) -> Iterator[Finding]:
    """Everything the control plane must show to be done at ``target``, most telling first."""
    cluster = objects.cluster
    if cluster is None:
        yield Finding(f"Cluster {objects.name}", "missing", "not created yet")
        return
    yield from _cluster_spec_checks(cluster, target)
    control_plane = objects.control_plane
    if control_plane is None:
        yield Finding(_subject(cluster), "spec.controlPlaneRef", "no KubeadmControlPlane yet")
        return
    spec = control_plane.get("spec", {})
    if spec.get("version") != target.version:
        yield Finding(_subject(control_plane), "spec.version", f"{spec.get('version')}, want {target.version}")
    yield from filter(None, [_generation_finding(control_plane)])
    yield from filter(None, [_condition_finding(_subject(cluster), cluster, "ControlPlaneInitialized", "True")])
    machines = objects.control_plane_machines()
    yield from _unhealthy_machines(machines, target)
    yield from _kcp_status_checks(control_plane, target)
    yield from _settled_machines(machines, target)
    for condition_type in ("ControlPlaneAvailable", "RemoteConnectionProbe"):
        yield from filter(None, [_condition_finding(_subject(cluster), cluster, condition_type, "True")])


def _cluster_spec_checks(cluster: Manifest, target: Target) -> Iterator[Finding]:
    topology = cluster.get("spec", {}).get("topology", {})
    if topology.get("version") != target.version:
        yield Finding(_subject(cluster), "spec.topology.version", f"{topology.get('version')}, want {target.version}")
    class_ref = topology.get("classRef", {}).get("name")
    if target.class_ref is not None and class_ref != target.class_ref:
        yield Finding(_subject(cluster), "spec.topology.classRef", f"{class_ref}, want {target.class_ref}")
    yield from filter(None, [_generation_finding(cluster)])
    reconciled = get_condition(cluster, "TopologyReconciled")
    generation = cluster["metadata"].get("generation")
    if reconciled is not None and reconciled.get("observedGeneration", generation) != generation:
        message = f"observedGeneration {reconciled.get('observedGeneration')}, generation is {generation}"
        yield Finding(_subject(cluster), "TopologyReconciled", message)
    if reconciled is not None and reconciled.get("reason") == "ClusterClassNotReconciled":
        yield Finding(_subject(cluster), _describe(reconciled), text(reconciled.get("message", "")))


def _kcp_status_checks(control_plane: Manifest, target: Target) -> Iterator[Finding]:
    subject = _subject(control_plane)
    for condition_type, wanted in _KCP_CONDITIONS:
        yield from filter(None, [_condition_finding(subject, control_plane, condition_type, wanted)])
    etcd = get_condition(control_plane, "EtcdClusterHealthy")  # absent with external etcd
    if etcd is not None and etcd.get("status") != "True":
        yield Finding(subject, _describe(etcd), text(etcd.get("message", "")))
    replicas = control_plane.get("spec", {}).get("replicas")
    status = control_plane.get("status", {})
    if status.get("versions") is None and replicas is not None and status.get("version") != target.version:
        yield Finding(subject, "status.version", f"{status.get('version')}, want {target.version}")
    elif status.get("versions") is not None:
        yield from filter(None, [_version_finding(control_plane, target.version, replicas)])
    yield from filter(None, [_counter_finding(control_plane, replicas, _REPLICA_COUNTERS)])


def _unhealthy_machines(machines: list[Manifest], target: Target) -> Iterator[Finding]:
    """Machines at the target version without a healthy Node, oldest first (the one stuck longest)."""
    for machine in machines:
        if _version(machine) != target.version:
            continue
        if machine["metadata"].get("deletionTimestamp"):
            yield Finding(_subject(machine), "metadata.deletionTimestamp", "being deleted")
        finding = _condition_finding(_subject(machine), machine, "NodeHealthy", "True")
        if finding is not None:
            yield finding


def _settled_machines(machines: list[Manifest], target: Target) -> Iterator[Finding]:
    """Every Machine runs the target (spec and kubelet), is up to date and is not going away."""
    for machine in machines:
        subject = _subject(machine)
        if _version(machine) != target.version:
            yield Finding(subject, "spec.version", f"{_version(machine)}, want {target.version}")
        kubelet = machine.get("status", {}).get("nodeInfo", {}).get("kubeletVersion")
        if kubelet != target.version:
            yield Finding(subject, "status.nodeInfo.kubeletVersion", f"{kubelet}, want {target.version}")
        if machine["metadata"].get("deletionTimestamp"):
            yield Finding(subject, "metadata.deletionTimestamp", "being deleted")
        up_to_date = get_condition(machine, "UpToDate")
        if up_to_date is not None and up_to_date.get("status") == "False":
            yield Finding(subject, _describe(up_to_date), text(up_to_date.get("message", "")))


# --- workers ---------------------------------------------------------------------------------------------------------

_MD_CONDITIONS = (
    ("Available", "True"),
    ("MachinesReady", "True"),
    ("RollingOut", "False"),
    ("MachinesUpToDate", "True"),
)


def _worker_checks(objects: ClusterObjects, target: Target) -> Iterator[Finding]:
    """Everything the workers and the topology must show for the whole cluster to be done."""
    workers = objects.worker_machines()
    for deployment in objects.machine_deployments:
        name = deployment["metadata"]["name"]
        owned = [m for m in workers if m["metadata"].get("labels", {}).get(DEPLOYMENT_NAME_LABEL) == name]
        yield from _deployment_checks(deployment, owned, target)
    for machine_set in objects.machine_sets:
        spec = machine_set.get("spec", {})
        version = spec.get("template", {}).get("spec", {}).get("version")
        if spec.get("replicas", 0) and version != target.version:
            yield Finding(_subject(machine_set), "spec.template.spec.version", f"{version}, want {target.version}")
    yield from _unhealthy_machines(workers, target)
    yield from _settled_machines(workers, target)
    cluster = objects.cluster
    if cluster is not None:
        yield from _topology_checks(cluster)


def _deployment_checks(deployment: Manifest, machines: list[Manifest], target: Target) -> Iterator[Finding]:
    subject = _subject(deployment)
    spec = deployment.get("spec", {})
    version = spec.get("template", {}).get("spec", {}).get("version")
    if version != target.version:
        yield Finding(subject, "spec.template.spec.version", f"{version}, want {target.version}")
    yield from filter(None, [_generation_finding(deployment)])
    yield from _unhealthy_machines(machines, target)
    for condition_type, wanted in _MD_CONDITIONS:
        yield from filter(None, [_condition_finding(subject, deployment, condition_type, wanted)])
    replicas = spec.get("replicas")
    yield from filter(None, [_version_finding(deployment, target.version, replicas)])
    yield from filter(None, [_counter_finding(deployment, replicas, _REPLICA_COUNTERS)])


def _topology_checks(cluster: Manifest) -> Iterator[Finding]:
    subject = _subject(cluster)
    status = cluster.get("status", {})
    for side in ("controlPlane", "workers"):
        plan = status.get(side, {}).get("upgradePlan")
        if plan:
            versions = ", ".join(str(step.get("version")) for step in plan)
            yield Finding(subject, f"status.{side}.upgradePlan", f"pending upgrade to {versions}")
    yield from filter(None, [_condition_finding(subject, cluster, "TopologyReconciled", "True")])
    yield from filter(None, [_condition_finding(subject, cluster, "Available", "True")])
