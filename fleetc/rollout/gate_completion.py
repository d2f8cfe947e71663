"""Completion checks: everything the control plane, then the workers and the topology, must show to be done.

Each check yields findings, most telling first; the first one is why a cluster is still progressing, except that a
stale status (an ``observedGeneration`` behind) gives way to a reported condition further on
(:func:`~fleetc.rollout.gate_objects.telling`).
Caller: :func:`fleetc.rollout.gates.evaluate`.
"""

from __future__ import annotations

from collections.abc import Iterator

from fleetc.contract.conditions import get_condition
from fleetc.contract.vocabulary import DEPLOYMENT_NAME_LABEL
from fleetc.core.keys import Manifest
from fleetc.rollout.gate_objects import (
    ClusterObjects,
    Evidence,
    Finding,
    Target,
    condition_fact,
    condition_finding,
    counter_finding,
    generation_finding,
    machine_version,
    subject_of,
    version_finding,
)

# --- control plane ---------------------------------------------------------------------------------------------------

_KCP_CONDITIONS = (
    ("Available", "True"),
    ("ControlPlaneComponentsHealthy", "True"),
    ("MachinesReady", "True"),
    ("RollingOut", "False"),
    ("MachinesUpToDate", "True"),
)
_REPLICA_COUNTERS = ("replicas", "upToDateReplicas", "readyReplicas", "availableReplicas")


def control_plane_checks(objects: ClusterObjects, target: Target) -> Iterator[Finding]:
    """Everything the control plane must show to be done at ``target``, most telling first."""
    cluster = objects.cluster
    if cluster is None:
        yield Finding(f"Cluster {objects.name}", "missing", "not created yet")
        return
    yield from _cluster_spec_checks(cluster, target)
    control_plane = objects.control_plane
    if control_plane is None:
        yield Finding(subject_of(cluster), "spec.controlPlaneRef", "no KubeadmControlPlane yet")
        return
    spec = control_plane.get("spec", {})
    if spec.get("version") != target.version:
        yield Finding(subject_of(control_plane), "spec.version", f"{spec.get('version')}, want {target.version}")
    yield from filter(None, [generation_finding(control_plane)])
    yield from filter(None, [condition_finding(subject_of(cluster), cluster, "ControlPlaneInitialized", "True")])
    machines = objects.control_plane_machines()
    yield from _unhealthy_machines(machines, target)
    yield from _kcp_status_checks(control_plane, target)
    yield from _settled_machines(machines, target)
    for condition_type in ("ControlPlaneAvailable", "RemoteConnectionProbe"):
        yield from filter(None, [condition_finding(subject_of(cluster), cluster, condition_type, "True")])


def _cluster_spec_checks(cluster: Manifest, target: Target) -> Iterator[Finding]:
    topology = cluster.get("spec", {}).get("topology", {})
    if topology.get("version") != target.version:
        yield Finding(subject_of(cluster), "spec.topology.version", f"{topology.get('version')}, want {target.version}")
    class_ref = topology.get("classRef", {}).get("name")
    if target.class_ref is not None and class_ref != target.class_ref:
        yield Finding(subject_of(cluster), "spec.topology.classRef", f"{class_ref}, want {target.class_ref}")
    yield from filter(None, [generation_finding(cluster)])
    reconciled = get_condition(cluster, "TopologyReconciled")
    generation = cluster["metadata"].get("generation")
    if reconciled is not None and reconciled.get("observedGeneration", generation) != generation:
        message = f"observedGeneration {reconciled.get('observedGeneration')}, generation is {generation}"
        yield Finding(subject_of(cluster), "TopologyReconciled", message, Evidence.STALE)
    if reconciled is not None and reconciled.get("reason") == "ClusterClassNotReconciled":
        yield condition_fact(subject_of(cluster), reconciled)


def _kcp_status_checks(control_plane: Manifest, target: Target) -> Iterator[Finding]:
    subject = subject_of(control_plane)
    for condition_type, wanted in _KCP_CONDITIONS:
        yield from filter(None, [condition_finding(subject, control_plane, condition_type, wanted)])
    etcd = get_condition(control_plane, "EtcdClusterHealthy")  # absent with external etcd
    if etcd is not None and etcd.get("status") != "True":
        yield condition_fact(subject, etcd)
    replicas = control_plane.get("spec", {}).get("replicas")
    status = control_plane.get("status", {})
    if status.get("versions") is None and replicas is not None and status.get("version") != target.version:
        yield Finding(subject, "status.version", f"{status.get('version')}, want {target.version}")
    elif status.get("versions") is not None:
        yield from filter(None, [version_finding(control_plane, target.version, replicas)])
    yield from filter(None, [counter_finding(control_plane, replicas, _REPLICA_COUNTERS)])


def _unhealthy_machines(machines: list[Manifest], target: Target) -> Iterator[Finding]:
    """Machines at the target version without a healthy Node, oldest first (the one stuck longest)."""
    for machine in machines:
        if machine_version(machine) != target.version:
            continue
        if machine["metadata"].get("deletionTimestamp"):
            yield Finding(subject_of(machine), "metadata.deletionTimestamp", "being deleted")
        check = get_condition(machine, "HealthCheckSucceeded")
        if check is not None and check.get("status") == "False":  # flagged: its owner is replacing it
            yield condition_fact(subject_of(machine), check)
        finding = condition_finding(subject_of(machine), machine, "NodeHealthy", "True")
        if finding is not None:
            yield finding


def _settled_machines(machines: list[Manifest], target: Target) -> Iterator[Finding]:
    """Every Machine runs the target (spec and kubelet), is up to date and is not going away."""
    for machine in machines:
        subject = subject_of(machine)
        if machine_version(machine) != target.version:
            yield Finding(subject, "spec.version", f"{machine_version(machine)}, want {target.version}")
        kubelet = machine.get("status", {}).get("nodeInfo", {}).get("kubeletVersion")
        if kubelet != target.version:
            yield Finding(subject, "status.nodeInfo.kubeletVersion", f"{kubelet}, want {target.version}")
        if machine["metadata"].get("deletionTimestamp"):
            yield Finding(subject, "metadata.deletionTimestamp", "being deleted")
        up_to_date = get_condition(machine, "UpToDate")
        if up_to_date is not None and up_to_date.get("status") == "False":
            yield condition_fact(subject, up_to_date)


# --- workers ---------------------------------------------------------------------------------------------------------

_MD_CONDITIONS = (
    ("Available", "True"),
    ("MachinesReady", "True"),
    ("RollingOut", "False"),
    ("MachinesUpToDate", "True"),
)


def worker_checks(objects: ClusterObjects, target: Target) -> Iterator[Finding]:
    """Everything the workers and the topology must show for the whole cluster to be done."""
    workers = objects.worker_machines()
    for deployment in objects.machine_deployments:
        name = deployment["metadata"]["name"]
        owned = [m for m in workers if m["metadata"].get("labels", {}).get(DEPLOYMENT_NAME_LABEL) == name]
        yield from _deployment_checks(deployment, owned, target)
    for pool in objects.machine_pools:
        yield from _pool_checks(pool, target)
    for machine_set in objects.machine_sets:
        spec = machine_set.get("spec", {})
        version = spec.get("template", {}).get("spec", {}).get("version")
        if spec.get("replicas", 0) and version != target.version:
            yield Finding(subject_of(machine_set), "spec.template.spec.version", f"{version}, want {target.version}")
    yield from _unhealthy_machines(workers, target)
    yield from _settled_machines(workers, target)
    cluster = objects.cluster
    if cluster is not None:
        yield from _topology_checks(cluster)


def _deployment_checks(deployment: Manifest, machines: list[Manifest], target: Target) -> Iterator[Finding]:
    subject = subject_of(deployment)
    spec = deployment.get("spec", {})
    version = spec.get("template", {}).get("spec", {}).get("version")
    if version != target.version:
        yield Finding(subject, "spec.template.spec.version", f"{version}, want {target.version}")
    yield from filter(None, [generation_finding(deployment)])
    yield from _unhealthy_machines(machines, target)
    for condition_type, wanted in _MD_CONDITIONS:
        yield from filter(None, [condition_finding(subject, deployment, condition_type, wanted)])
    replicas = spec.get("replicas")
    yield from filter(None, [version_finding(deployment, target.version, replicas)])
    yield from filter(None, [counter_finding(deployment, replicas, _REPLICA_COUNTERS)])


def _pool_checks(pool: Manifest, target: Target) -> Iterator[Finding]:
    """A MachinePool as CAPI v1.14 reports it: no v1beta2 Available/RollingOut conditions yet, so its version, its
    replica counters and the kubelet versions of its Nodes (``status.versions``) say when it is done."""
    spec = pool.get("spec", {})
    version = spec.get("template", {}).get("spec", {}).get("version")
    if version != target.version:
        yield Finding(subject_of(pool), "spec.template.spec.version", f"{version}, want {target.version}")
    yield from filter(None, [generation_finding(pool)])
    replicas = spec.get("replicas", 1)
    yield from filter(None, [version_finding(pool, target.version, replicas or None)])
    yield from filter(None, [counter_finding(pool, replicas, _REPLICA_COUNTERS)])


def _topology_checks(cluster: Manifest) -> Iterator[Finding]:
    subject = subject_of(cluster)
    status = cluster.get("status", {})
    for side in ("controlPlane", "workers"):
        plan = status.get(side, {}).get("upgradePlan")
        if plan:
            versions = ", ".join(str(step.get("version")) for step in plan)
            yield Finding(subject, f"status.{side}.upgradePlan", f"pending upgrade to {versions}")
    yield from filter(None, [condition_finding(subject, cluster, "TopologyReconciled", "True")])
    yield from filter(None, [condition_finding(subject, cluster, "Available", "True")])
