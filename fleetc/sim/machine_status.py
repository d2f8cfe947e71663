"""A simulated Machine's v1beta2 status, computed whole from what the Machine controller knows.

Follows ``core/reconcilers/machine/machine_controller_status.go``: ``BootstrapConfigReady`` and
``InfrastructureReady`` mirror the bootstrap config and infrastructure machine (here: the in-memory backend's
``VMProvisioned``/``NodeProvisioned``/``EtcdProvisioned``/``APIServerProvisioned`` summary,
``inmemorymachine_backend.go`` L1250-1295); ``NodeReady``/``NodeHealthy`` are ``Unknown/InspectionFailed``
while no Node exists (L399-411; ``NodeDoesNotExist`` once the Machine is deleting, L376-387); ``Ready`` sums up
bootstrap, infrastructure, Node, ``HealthCheckSucceeded`` and the readiness gates; ``Available`` is Ready for
``minReadySeconds``; phases from ``machine_phase_types.go``.

Simulation shortcuts: the control-plane readiness-gate conditions (``APIServerPodHealthy`` …) that KCP writes
from the workload cluster, and ``UpToDate`` that KCP/MachineSet write, are computed here from the same facts,
so a Machine's status is written by one writer (plus the MachineHealthCheck's ``HealthCheckSucceeded`` and the
owner's ``OwnerRemediated``, which are carried over untouched).
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

from fleetc.core.keys import Manifest
from fleetc.sim.api import moment, stamp
from fleetc.sim.status import FALSE, TRUE, UNKNOWN, Cond, build, conditions_of, find, summary

COMPONENTS = ("EtcdPodHealthy", "EtcdMemberHealthy", "APIServerPodHealthy", "ControllerManagerPodHealthy")
GATES = ("NodeKubeadmLabelsAndTaintsSet", *COMPONENTS, "SchedulerPodHealthy")
_TRUE_REASON = {"NodeKubeadmLabelsAndTaintsSet": "Set", "EtcdMemberHealthy": "Healthy"}
_POD_GATES = ("APIServerPodHealthy", "ControllerManagerPodHealthy", "SchedulerPodHealthy", "EtcdPodHealthy")
COMPONENTS_LABEL = "Control plane components"
WAITING_FOR_INIT = "Waiting for Cluster control plane to be initialized"
KUBELET_STOPPED = "Kubelet stopped posting node status."
NODE_INFO_FIELDS = (
    "architecture",
    "bootID",
    "containerRuntimeVersion",
    "kernelVersion",
    "kubeProxyVersion",
    "machineID",
    "operatingSystem",
    "osImage",
    "systemUUID",
)


class MachineFacts(NamedTuple):
    """What the Machine controller found this reconcile."""

    control_plane: bool
    infrastructure_kind: str
    cluster_infrastructure_ready: bool
    cluster_initialized: bool
    bootstrapped: bool
    vm_up: bool
    node_up: bool
    """The provider's Node exists (it becomes the Machine's nodeRef once the cluster is reachable)."""
    provider_id: str | None
    deleting: bool
    up_to_date: tuple[bool, str]
    """(up to date, why not) as the owner judges it."""
    min_ready_seconds: int = 0
    node_fault: str | None = None
    """``NotReady`` (the kubelet stopped reporting) or ``Deleted`` once the joined Node went bad."""
    deleting_stage: tuple[str, str] | None = None
    """The deletion stage (``Deleting`` reason and message) a deleting Machine waits in
    (:mod:`fleetc.sim.machine_delete`)."""

    @property
    def node_ref(self) -> bool:
        """True when the Machine reports the Node: it exists and the workload cluster answers."""
        return self.node_up and self.cluster_initialized


def machine_status(machine: Manifest, facts: MachineFacts, now: float) -> dict[str, Any]:
    """The whole ``status`` of a Machine."""
    previous: dict[str, Any] = machine.get("status", {})
    wanted = _conditions(machine, facts, now)
    status: dict[str, Any] = {
        "conditions": build(conditions_of(machine), wanted, machine["metadata"]["generation"], now),
        "observedGeneration": machine["metadata"]["generation"],
        "phase": _phase(facts),
    }
    initialization = _initialization(facts.bootstrapped, facts.vm_up)
    if initialization:
        status["initialization"] = initialization
    if facts.node_ref:
        status["nodeRef"] = {"name": machine["metadata"]["name"]}
        status["nodeInfo"] = _node_info(machine["spec"]["version"])
    status["lastUpdated"] = previous["lastUpdated"] if previous.get("phase") == status["phase"] else stamp(now)
    return status


@functools.lru_cache(maxsize=4)
def _initialization(bootstrapped: bool, vm_up: bool) -> dict[str, bool]:
    """``status.initialization``: one dict per combination, shared (stored objects are never edited in place)."""
    fields = {"bootstrapDataSecretCreated": bootstrapped, "infrastructureProvisioned": vm_up}
    return {k: v for k, v in fields.items() if v}


@functools.lru_cache(maxsize=64)
def _node_info(kubelet_version: str) -> dict[str, str]:
    """``status.nodeInfo`` of a simulated Node: one dict per version, shared by every Machine that reports it
    (stored objects are never edited in place)."""
    return {**dict.fromkeys(NODE_INFO_FIELDS, ""), "kubeletVersion": kubelet_version}


def _phase(facts: MachineFacts) -> str:
    if facts.deleting:
        return "Deleting"
    if facts.node_ref:
        return "Running"
    if facts.vm_up:
        return "Provisioned"
    return "Provisioning" if facts.bootstrapped else "Pending"


def _conditions(machine: Manifest, facts: MachineFacts, now: float) -> list[Cond | dict[str, Any]]:
    previous = conditions_of(machine)
    bootstrap, infrastructure = _bootstrap(facts), _infrastructure(facts)
    node = _node(facts, machine["metadata"]["name"])
    gates = _gates(facts) if facts.control_plane else []
    carried = [c for c in (find(previous, t) for t in ("HealthCheckSucceeded", "OwnerRemediated")) if c is not None]
    deleting = _deleting(machine, facts)
    ready = _ready(facts, [deleting, bootstrap, infrastructure, node[0], *carried[:1], *gates])
    up_to_date = Cond("UpToDate", TRUE, "UpToDate") if facts.up_to_date[0] else None
    up_to_date = up_to_date or Cond("UpToDate", FALSE, "NotUpToDate", facts.up_to_date[1])
    return [
        _available(previous, ready, facts, now),
        ready,
        up_to_date,
        bootstrap,
        infrastructure,
        *node,
        *gates,
        *carried,
        Cond("Updating", FALSE, "NotUpdating"),
        Cond("Paused", FALSE, "NotPaused"),
        deleting,
    ]


def _bootstrap(facts: MachineFacts) -> Cond:
    if facts.bootstrapped:
        return Cond("BootstrapConfigReady", TRUE, "Ready")
    if not facts.cluster_infrastructure_ready:
        waiting = "Waiting for Cluster status.initialization.infrastructureProvisioned to be true"
    else:
        waiting = WAITING_FOR_INIT
    message = f"* DataSecretAvailable: {waiting}\n* CertificatesAvailable: Condition not yet reported"
    return Cond("BootstrapConfigReady", FALSE, "NotReady", message)


def _infrastructure(facts: MachineFacts) -> Cond:
    if facts.node_up:
        return Cond("InfrastructureReady", TRUE, "Ready")
    if not facts.bootstrapped:
        vm = "WaitingForControlPlaneInitialized" if not facts.cluster_initialized else "WaitingForBootstrapData"
        stages = [("VMProvisioned", vm), ("NodeProvisioned", "WaitingForVMProvisioned")]
        after = "WaitingForVMProvisioned"
    elif not facts.vm_up:
        stages = [("VMProvisioned", "WaitingForStartupTimeout"), ("NodeProvisioned", "WaitingForVMProvisioned")]
        after = "WaitingForVMProvisioned"
    else:
        stages = [("NodeProvisioned", "WaitingForStartupTimeout")]
        after = "WaitingForNodeProvisioned"
    if facts.control_plane:
        stages += [("EtcdProvisioned", after), ("APIServerProvisioned", after)]
    return Cond("InfrastructureReady", FALSE, "NotReady", summary(stages))


def _waiting_for_node(facts: MachineFacts) -> str:
    if not facts.cluster_initialized:
        return WAITING_FOR_INIT
    if facts.provider_id is None:
        return f"Waiting for {facts.infrastructure_kind} to report spec.providerID"
    return f"Waiting for a Node with spec.providerID {facts.provider_id} to exist"


def _node(facts: MachineFacts, name: str) -> list[Cond]:
    if facts.node_ref:
        if facts.node_fault is None:
            return [Cond("NodeHealthy", TRUE, "NodeHealthy"), Cond("NodeReady", TRUE, "NodeReady")]
        if facts.node_fault == "Deleted":
            gone = f"Node {name} has been deleted" + ("" if facts.deleting else " while the Machine still exists")
            return [Cond("NodeHealthy", FALSE, "NodeDeleted", gone), Cond("NodeReady", FALSE, "NodeDeleted", gone)]
        return [
            Cond("NodeHealthy", UNKNOWN, "NodeHealthUnknown", f"* Node.AllConditions: {KUBELET_STOPPED}"),
            Cond("NodeReady", UNKNOWN, "NodeReadyUnknown", f"* Node.Ready: {KUBELET_STOPPED}"),
        ]
    if facts.deleting and facts.cluster_initialized and facts.provider_id is not None:
        gone = "Node does not exist"
        return [
            Cond("NodeHealthy", UNKNOWN, "NodeDoesNotExist", gone),
            Cond("NodeReady", UNKNOWN, "NodeDoesNotExist", gone),
        ]
    message = _waiting_for_node(facts)
    return [
        Cond("NodeHealthy", UNKNOWN, "InspectionFailed", message),
        Cond("NodeReady", UNKNOWN, "InspectionFailed", message),
    ]


def _gates(facts: MachineFacts) -> list[Cond]:
    if facts.node_fault is not None and facts.node_up:
        return [Cond(gate, UNKNOWN, "InspectionFailed", "Node is unreachable") for gate in GATES]
    if facts.node_up:
        return [Cond(gate, TRUE, _TRUE_REASON.get(gate, "Running")) for gate in GATES]
    message = _waiting_for_node(facts)
    return [Cond(gate, UNKNOWN, "InspectionFailed", message) for gate in GATES]


def _deleting(machine: Manifest, facts: MachineFacts) -> Cond:
    if not facts.deleting:
        return Cond("Deleting", FALSE, "NotDeleting")
    if facts.deleting_stage is not None:
        return Cond("Deleting", TRUE, *facts.deleting_stage)
    return Cond("Deleting", TRUE, "Deleting", "Deletion started")


def _ready(facts: MachineFacts, parts: list[Cond | dict[str, Any]]) -> Cond:
    """``Ready``: the summary of the parts, control-plane pod gates merged as "Control plane components"."""
    lines: list[tuple[str, str]] = []
    worst = TRUE
    for part in parts:
        kind, status, message = _fields(part)
        if kind == "NodeHealthy" and facts.deleting:
            continue
        if kind == "Deleting":
            if status == TRUE:
                reason = part.reason if isinstance(part, Cond) else part["reason"]
                lines.append(("Deleting", f"Machine deletion in progress, stage: {reason}"))
                worst = FALSE
            continue
        if status == TRUE:
            continue
        worst = FALSE if FALSE in (status, worst) else UNKNOWN
        if kind in _POD_GATES:
            if any(label == COMPONENTS_LABEL for label, _ in lines):
                continue
            kind = COMPONENTS_LABEL
        lines.append((kind, message))
    if worst == TRUE:
        return Cond("Ready", TRUE, "Ready")
    return Cond("Ready", worst, "NotReady" if worst == FALSE else "ReadyUnknown", summary(lines))


def _fields(part: Cond | dict[str, Any]) -> tuple[str, str, str]:
    if isinstance(part, Cond):
        return part.type, part.status, part.message
    return part["type"], part["status"], part["message"]


def _available(previous: list[dict[str, Any]], ready: Cond, facts: MachineFacts, now: float) -> Cond:
    if ready.status != TRUE:
        return Cond("Available", FALSE, "NotReady")
    was_ready = find(previous, "Ready")
    since = now
    if was_ready is not None and was_ready["status"] == TRUE:
        since = moment(was_ready["lastTransitionTime"])
    if now - since < facts.min_ready_seconds:
        return Cond("Available", FALSE, "WaitingForMinReadySeconds")
    return Cond("Available", TRUE, "Available")
