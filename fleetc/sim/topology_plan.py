"""Which version the control plane and each MachineDeployment should run now: CAPI's upgrade sequencing.

Follows ``exp/topology/desiredstate/desired_state.go`` (computeControlPlaneVersion,
computeMachineDeploymentVersion, isMachineDeploymentDeferred L1171+) and ``exp/topology/scope/scope.go`` L48-53:

- the control plane takes the next step of the upgrade plan only when it is not provisioning (no
  ``status.versions`` yet), not upgrading (a reported version older than ``spec.version``), not scaling, no
  MachineDeployment is upgrading, and the workers are not required to upgrade first (kubelet skew n-3);
- MachineDeployments upgrade only once the control plane is stable at the version they need, in
  ``spec.topology.workers.machineDeployments`` order, at most ``topology.cluster.x-k8s.io/upgrade-concurrency``
  (default 1) at a time; ``defer-upgrade`` skips one, ``hold-upgrade-sequence`` holds it and every later one;
- new MachineDeployments are not created while the control plane is provisioning, upgrading or about to;
- the plan (``exp/topology/desiredstate/upgrade_plan.go``) comes from :func:`fleetc.contract.upgrades.upgrade_path`:
  one minor per step through the ClusterClass ``kubernetesVersions``, workers every third step and at the end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from fleetc.contract.upgrades import upgrade_path
from fleetc.contract.versions import MAX_WORKER_SKEW, minor_of, version_order
from fleetc.contract.vocabulary import DEFER_UPGRADE, HOLD_UPGRADE_SEQUENCE
from fleetc.core.keys import Manifest


class ControlPlaneState(NamedTuple):
    """The KubeadmControlPlane as topology sees it (``internal/contract/controlplane.go``)."""

    version: str
    provisioning: bool
    upgrading: bool
    scaling: bool

    @classmethod
    def of(cls, kcp: Manifest) -> ControlPlaneState:
        """IsProvisioning / IsUpgrading / IsScaling of a KubeadmControlPlane."""
        spec, status = kcp["spec"], kcp.get("status", {})
        reported = status.get("versions", [])
        replicas = spec.get("replicas", 1)
        counters = ("replicas", "readyReplicas", "availableReplicas", "upToDateReplicas")
        return cls(
            version=spec["version"],
            provisioning=not reported,
            upgrading=any(version_order(spec["version"]) > version_order(v["version"]) for v in reported),
            scaling=any(status.get(c) != replicas for c in counters),
        )


class Deployment(NamedTuple):
    """One topology MachineDeployment entry and its object (if created)."""

    name: str
    topology: Manifest
    object: Manifest | None
    upgrading: bool
    """Some of its Machines run another version than its template."""

    @property
    def version(self) -> str | None:
        """``spec.template.spec.version`` of the object."""
        if self.object is None:
            return None
        found: str = self.object["spec"]["template"]["spec"]["version"]
        return found

    @property
    def entry_annotations(self) -> dict[str, str]:
        """Annotations of the topology entry (where defer/hold annotations live)."""
        found: dict[str, str] = self.topology.get("metadata", {}).get("annotations", {})
        return found


@dataclass
class VersionPlan:
    """The versions to apply now, and what is waiting (for ``TopologyReconciled``)."""

    target: str
    control_plane: str
    control_plane_steps: tuple[str, ...] = ()
    deployments: dict[str, str] = field(default_factory=dict)
    create_deployments: bool = True
    upgrading: list[tuple[str, str]] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    deferred: list[str] = field(default_factory=list)
    pending_create: list[str] = field(default_factory=list)
    problem: str | None = None


def plan_versions(
    target: str,
    control_plane: ControlPlaneState | None,
    deployments: list[Deployment],
    catalogue: list[str] | None,
    concurrency: int,
) -> VersionPlan:
    """Decide the control-plane version, each MachineDeployment's version, and whether new ones may be created."""
    if control_plane is None:
        plan = VersionPlan(target, target, create_deployments=False)
        plan.pending_create = [d.name for d in deployments if d.object is None]
        return plan
    plan = VersionPlan(target, control_plane.version)
    worker_minor = min((minor_of(d.version) for d in deployments if d.version), default=None)
    if control_plane.version != target:
        path = upgrade_path(control_plane.version, target, catalogue)
        if path.problem is not None:
            plan.problem = path.problem
        else:
            plan.control_plane_steps = path.control_plane_steps
            step = path.control_plane_steps[0]
            workers_first = worker_minor is not None and minor_of(step) - worker_minor > MAX_WORKER_SKEW
            busy = control_plane.provisioning or control_plane.upgrading or control_plane.scaling
            if not busy and not workers_first and not any(d.upgrading for d in deployments):
                plan.control_plane = step
    stable = (
        not control_plane.provisioning
        and not control_plane.upgrading
        and plan.control_plane == control_plane.version
        and plan.control_plane == target
    )
    plan.create_deployments = stable
    _plan_deployments(plan, control_plane, deployments, worker_minor, concurrency)
    return plan


def _worker_goal(plan: VersionPlan, control_plane: ControlPlaneState, worker_minor: int | None) -> str | None:
    """The version workers should move to now, or None while the control plane is busy."""
    if control_plane.provisioning or control_plane.upgrading or plan.control_plane != control_plane.version:
        return None
    if control_plane.version == plan.target:
        return plan.target
    steps = plan.control_plane_steps
    if steps and worker_minor is not None and minor_of(steps[0]) - worker_minor > MAX_WORKER_SKEW:
        return control_plane.version
    return None


def _plan_deployments(
    plan: VersionPlan,
    control_plane: ControlPlaneState,
    deployments: list[Deployment],
    worker_minor: int | None,
    concurrency: int,
) -> None:
    goal = _worker_goal(plan, control_plane, worker_minor)
    in_flight = sum(1 for d in deployments if d.upgrading)
    held = False
    for deployment in deployments:
        if deployment.object is None:
            if not plan.create_deployments:
                plan.pending_create.append(deployment.name)
            continue
        current = deployment.version or plan.target
        plan.deployments[deployment.name] = current
        held = held or HOLD_UPGRADE_SEQUENCE in deployment.entry_annotations
        if deployment.upgrading:
            plan.upgrading.append((deployment.name, current))
            continue
        if goal is None or current == goal:
            if current != plan.target:
                plan.pending.append(deployment.name)
            continue
        if held or DEFER_UPGRADE in deployment.entry_annotations:
            plan.deferred.append(deployment.name)
        elif in_flight >= concurrency:
            plan.pending.append(deployment.name)
        else:
            plan.deployments[deployment.name] = goal
            plan.upgrading.append((deployment.name, goal))
            in_flight += 1
