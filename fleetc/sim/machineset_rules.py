"""What the simulated MachineSet controller decides before it creates or remediates Machines (CAPI v1.14).

Pure functions over objects; caller: :class:`fleetc.sim.machineset.SimulatedMachineSetReconciler`.

- :func:`preflight_messages` — the MachineSet preflight checks (feature ``MachineSetPreflightChecks``, on by default,
  every check enabled; ``machineset_preflight.go``), run before a scale-up and before a remediation: while one
  fails the MachineSet waits (requeue after 15 s) and says why (``ScalingUp`` message, or the flagged Machines'
  ``OwnerRemediated=False/RemediationDeferred``). ``ControlPlaneIsStable``: the Cluster's topology version (or
  upgrade step) is not yet the control plane's, or the control plane is provisioning (no ``status.versions``) or
  upgrading (a reported version older than ``spec.version``); ``KubernetesVersionSkew``: the MachineSet's minor is
  newer than the control plane's or more than 3 older; ``KubeadmVersionSkew``: a kubeadm-bootstrapped MachineSet
  of another minor; ``ControlPlaneVersionSkew`` (with a topology): another version than the control plane's. The
  ``machineset.cluster.x-k8s.io/skip-preflight-checks`` annotation on the MachineSet (``All`` or a list) skips them.
- :func:`remediation_plan` — ``reconcileUnhealthyMachines`` (``machineset_controller.go`` L1612-1820): only the
  MachineDeployment's current MachineSet (same ``revision`` annotation) remediates — a flagged Machine of an older
  one gets ``OwnerRemediated=False/CannotBeRemediated``, "pending removal due to rollout"; at most
  ``spec.remediation.maxInFlight`` of the MachineDeployment (a number or a percentage of its replicas, rounded up;
  default unlimited) are being deleted for remediation at once, the rest ``RemediationDeferred``; Machines with
  the ``cluster.x-k8s.io/remediate-machine`` annotation go first, then the newest.
- :func:`deletion_order` — which Machines a scale-down deletes first (``machineset_deletion_order.go``): deleting,
  then ``cluster.x-k8s.io/delete-machine``, then unhealthy (no Node, ``NodeHealthy=False`` or
  ``HealthCheckSucceeded=False``), then by ``spec.deletion.order``: ``Random`` (the default — in v1.14 equal
  priorities, so by name), ``Oldest`` or ``Newest``; ties by name.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from fleetc.contract.objects import annotations_of, is_deleting, name_of
from fleetc.contract.versions import version_order
from fleetc.contract.vocabulary import BOOTSTRAP_GROUP, MD_REVISION, UPGRADE_STEP
from fleetc.core.keys import Manifest
from fleetc.sim.api import DELETE_MACHINE_ANNOTATION, REMEDIATE_MACHINE_ANNOTATION, SKIP_PREFLIGHT_ANNOTATION, moment
from fleetc.sim.machines import needs_remediation
from fleetc.sim.status import conditions_of, find
from fleetc.sim.topology_plan import ControlPlaneState

PREFLIGHT_REQUEUE = 15.0
PENDING_ROLLOUT = "Machine won't be remediated because it is pending removal due to rollout"


def _minor(version: str) -> int:
    return version_order(version)[1]


def _plain(version: str) -> str:
    """A version as Go's ``semver.Version.String()`` writes it (no leading ``v``)."""
    return version.removeprefix("v")


def preflight_messages(cluster: Manifest | None, control_plane: Manifest | None, machine_set: Manifest) -> list[str]:
    """Why the MachineSet may not create or remediate Machines now (empty: it may)."""
    skipped = {s.strip() for s in annotations_of(machine_set).get(SKIP_PREFLIGHT_ANNOTATION, "").split(",")}
    if cluster is None or control_plane is None or "All" in skipped:
        return []
    cp_version: str = control_plane["spec"]["version"]
    topology = cluster["spec"].get("topology")
    messages = [] if "ControlPlaneIsStable" in skipped else _unstable(cluster, control_plane)
    spec = machine_set["spec"]["template"]["spec"]
    ms_version: str = spec.get("version", "")
    if not ms_version:
        return messages
    pair = f"MachineSet version ({_plain(ms_version)}) and ControlPlane version ({_plain(cp_version)})"
    if "KubernetesVersionSkew" not in skipped:
        check = '("KubernetesVersionSkew" preflight check failed)'
        if _minor(ms_version) > _minor(cp_version):
            messages.append(
                f"{pair} do not conform to the kubernetes version skew policy as MachineSet version is higher than "
                f"ControlPlane version {check}"
            )
        elif _minor(ms_version) < _minor(cp_version) - 3:
            messages.append(
                f"{pair} do not conform to the kubernetes version skew policy as MachineSet version is more than 3 "
                f"minor versions older than the ControlPlane version {check}"
            )
    config = spec.get("bootstrap", {}).get("configRef", {})
    kubeadm = config.get("kind") == "KubeadmConfigTemplate" and config.get("apiGroup") == BOOTSTRAP_GROUP
    if "KubeadmVersionSkew" not in skipped and kubeadm and _minor(ms_version) != _minor(cp_version):
        messages.append(
            f"{pair} do not conform to kubeadm version skew policy as kubeadm only supports joining with the same "
            'major+minor version as the control plane ("KubeadmVersionSkew" preflight check failed)'
        )
    if "ControlPlaneVersionSkew" not in skipped and topology and ms_version != cp_version:
        messages.append(
            f"MachineSet version ({ms_version}) is not yet the same as the ControlPlane version ({cp_version}), "
            'waiting for version to be propagated to the MachineSet ("ControlPlaneVersionSkew" preflight check '
            "failed)"
        )
    return messages


def _unstable(cluster: Manifest, control_plane: Manifest) -> list[str]:
    """``ControlPlaneIsStable``: a pending version upgrade, or the control plane provisioning or upgrading."""
    cp_version: str = control_plane["spec"]["version"]
    ref = f"KubeadmControlPlane {control_plane['metadata']['namespace']}/{name_of(control_plane)}"
    failed = '("ControlPlaneIsStable" preflight check failed)'
    topology = cluster["spec"].get("topology")
    step = annotations_of(cluster).get(UPGRADE_STEP, "")
    state = ControlPlaneState.of(control_plane)
    if topology and topology.get("version") != cp_version and step != cp_version:
        return [f"{ref} has a pending version upgrade to {step or topology.get('version')} {failed}"]
    if state.provisioning:
        return [f"{ref} is provisioning {failed}"]
    if state.upgrading:
        return [f"{ref} is upgrading {failed}"]
    return []


class RemediationPlan(NamedTuple):
    """Flagged Machines to delete now, and the ones left waiting with their ``OwnerRemediated`` reason and message."""

    delete: list[Manifest]
    waiting: list[tuple[Manifest, str, str]]


def remediation_plan(machine_set: Manifest, deployment: Manifest | None, machines: list[Manifest]) -> RemediationPlan:
    """Which flagged Machines (``needs_remediation``, not deleting) the MachineSet deletes now, and which wait."""
    flagged = [m for m in machines if needs_remediation(m) and not is_deleting(m)]
    if not flagged:
        return RemediationPlan([], [])
    room = math.inf
    limit: object = None
    if deployment is not None:
        if _revision(deployment) != _revision(machine_set):
            return RemediationPlan([], [(m, "CannotBeRemediated", PENDING_ROLLOUT) for m in flagged])
        limit = deployment["spec"].get("remediation", {}).get("maxInFlight")
        if limit is not None:
            room = _scaled(limit, deployment["spec"].get("replicas", 1))
    room -= sum(1 for m in machines if is_deleting(m) and _reason(m) == "MachineDeleting")
    deferred = (
        f"Waiting because there are already too many remediations in progress "
        f"(spec.strategy.remediation.maxInFlight is {limit})"
    )
    ordered = sorted(flagged, key=_remediation_order)
    take = 0 if room <= 0 else len(ordered) if math.isinf(room) else int(room)
    return RemediationPlan(ordered[:take], [(m, "RemediationDeferred", deferred) for m in ordered[take:]])


def _remediation_order(machine: Manifest) -> tuple[bool, float, str]:
    """``sortMachinesToRemediate``: annotated first, then the newest, then by name."""
    created = moment(machine["metadata"]["creationTimestamp"])
    return REMEDIATE_MACHINE_ANNOTATION not in annotations_of(machine), -created, name_of(machine)


def _scaled(value: object, replicas: int) -> int:
    if isinstance(value, str) and value.endswith("%"):
        return math.ceil(replicas * int(value[:-1]) / 100)
    return int(str(value))


def _revision(obj: Manifest) -> str:
    return annotations_of(obj).get(MD_REVISION, "")


def _reason(machine: Manifest) -> str:
    found = find(conditions_of(machine), "OwnerRemediated")
    return str(found["reason"]) if found is not None and found["status"] == "False" else ""


def deletion_order(machine_set: Manifest, machines: list[Manifest], now: float) -> list[Manifest]:
    """The MachineSet's Machines, the first to delete first."""
    order = machine_set["spec"].get("deletion", {}).get("order", "Random")
    return sorted(machines, key=lambda m: (-_delete_priority(m, order, now), name_of(m)))


def _delete_priority(machine: Manifest, order: str, now: float) -> float:
    if is_deleting(machine):
        return 100.0
    if DELETE_MACHINE_ANNOTATION in annotations_of(machine):
        return 80.0
    if not _healthy(machine):
        return 50.0
    if order == "Random":
        return 20.0
    age = max(now - moment(machine["metadata"]["creationTimestamp"]), 0.0)
    oldest = 50.0 * (1.0 - math.exp(-age / 864000))
    return oldest if order == "Oldest" else 50.0 - oldest


def _healthy(machine: Manifest) -> bool:
    """``isMachineHealthy``: a Node, ``NodeHealthy`` not False, ``HealthCheckSucceeded`` not False."""
    conditions = conditions_of(machine)
    node, check = find(conditions, "NodeHealthy"), find(conditions, "HealthCheckSucceeded")
    return (
        "nodeRef" in machine.get("status", {})
        and (node is None or node["status"] != "False")
        and (check is None or check["status"] != "False")
    )
