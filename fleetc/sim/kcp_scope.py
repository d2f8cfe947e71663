"""A KubeadmControlPlane and its Machines as one reconcile sees them (CAPI's ``internal.ControlPlane``).

Follows ``controlplane/kubeadm/internal/control_plane.go`` (Machines needing rollout, healthy Machines still
provisioning, deleting Machines) and ``controlplane/kubeadm/reconcilers/kubeadmcontrolplane/preflight.go``: a
scale operation waits while a Machine is deleting, or a Machine (other than the one being scaled down) has no
Node or unhealthy control-plane components or etcd member. In the simulation a Machine's components and etcd
member are healthy exactly when its Node is up and reported (``status.nodeRef``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from fleetc.contract.objects import annotations_of, is_deleting
from fleetc.core.keys import Manifest
from fleetc.sim.api import DELETE_MACHINE_ANNOTATION
from fleetc.sim.machines import (
    has_node_ref,
    is_true,
    kcp_outdated_reasons,
    needs_remediation,
    node_up,
    oldest_first,
)
from fleetc.sim.rotation import rotation_due

DELETING_MESSAGE = "* waiting for a control plane Machine to complete deletion"
COMPONENTS_MESSAGE = "* waiting for control plane components to become healthy"
ETCD_MESSAGE = "* waiting for etcd cluster to become healthy"


@dataclass(frozen=True)
class Blocked:
    """A scale operation the preflight checks held back, and why (``getPreflightMessages``)."""

    direction: str
    """``up`` or ``down``."""
    messages: tuple[str, ...]


@dataclass
class ControlPlane:
    """The current state of one KubeadmControlPlane."""

    kcp: Manifest
    cluster: Manifest | None
    machines: list[Manifest]
    now: float
    blocked: Blocked | None = field(default=None)

    def __post_init__(self) -> None:
        self.machines = oldest_first(self.machines)

    @property
    def namespace(self) -> str:
        """The namespace of the KubeadmControlPlane."""
        namespace: str = self.kcp["metadata"]["namespace"]
        return namespace

    @property
    def desired_replicas(self) -> int:
        """``spec.replicas`` (default 1)."""
        replicas: int = self.kcp["spec"].get("replicas", 1)
        return replicas

    @property
    def max_surge(self) -> int:
        """``spec.rollout.strategy.rollingUpdate.maxSurge`` (default 1)."""
        strategy = self.kcp["spec"].get("rollout", {}).get("strategy", {})
        surge: int = strategy.get("rollingUpdate", {}).get("maxSurge", 1)
        return surge

    @cached_property
    def initialized(self) -> bool:
        """True once any Machine's API server answered (sticky, as ``status.initialization``)."""
        was = self.kcp.get("status", {}).get("initialization", {}).get("controlPlaneInitialized", False)
        return bool(was) or any(node_up(m, self.now) for m in self.machines)

    @cached_property
    def deleting(self) -> list[Manifest]:
        """Machines with a deletionTimestamp."""
        return [m for m in self.machines if is_deleting(m)]

    @cached_property
    def outdated(self) -> list[Manifest]:
        """Machines (not deleting) that need rollout: wrong version, infrastructure template or kubeadm config, or
        created before ``spec.rollout.after`` (:func:`fleetc.sim.rotation.rotation_due`)."""
        return [
            m
            for m in self.machines
            if not is_deleting(m) and (kcp_outdated_reasons(m, self.kcp) or rotation_due(m, self.kcp, self.now))
        ]

    @cached_property
    def to_remediate(self) -> list[Manifest]:
        """Machines a MachineHealthCheck marked for KCP to remediate."""
        return [m for m in self.machines if needs_remediation(m)]

    def etcd_members(self, excluding: Manifest | None = None) -> list[Manifest]:
        """Machines whose etcd member exists (their Node came up), not deleting."""
        return [m for m in self.machines if node_up(m, self.now) and not is_deleting(m) and m is not excluding]

    def healthy(self, machine: Manifest) -> bool:
        """Node reported and healthy (so its control-plane components and etcd member are), not deleting."""
        return has_node_ref(machine) and not is_deleting(machine) and is_true(machine, "NodeHealthy")

    def preflight(self, direction: str, excluding: Manifest | None = None) -> bool:
        """Run the preflight checks; False (and :attr:`blocked` set) when the operation must wait."""
        messages: list[str] = []
        if self.deleting:
            messages.append(DELETING_MESSAGE)
        others = [m for m in self.machines if m is not excluding and not is_deleting(m)]
        if any(not self.healthy(m) for m in others):
            messages += [COMPONENTS_MESSAGE, ETCD_MESSAGE]
        if messages:
            self.blocked = Blocked(direction, tuple(messages))
            return False
        return True

    def scale_down_victim(self, candidates: list[Manifest]) -> Manifest:
        """The Machine to delete (``selectMachineForInPlaceUpdateOrScaleDown``): among the candidates (the outdated
        Machines in a rolling update) those with the ``cluster.x-k8s.io/delete-machine`` annotation, else any Machine
        with it, else candidates with unhealthy components, else the candidates; then the oldest in the failure
        domain with the most of them (``MachineInFailureDomainWithMostMachines``)."""
        live = [m for m in self.machines if not is_deleting(m)]
        eligible = (
            [m for m in candidates if DELETE_MACHINE_ANNOTATION in annotations_of(m)]
            or [m for m in live if DELETE_MACHINE_ANNOTATION in annotations_of(m)]
            or [m for m in candidates if not self.healthy(m)]
            or candidates
        )
        domains = sorted(
            {_domain(m) for m in eligible},
            key=lambda d: (sum(_domain(m) == d for m in eligible), sum(_domain(m) == d for m in live), d),
        )
        return next(m for m in eligible if _domain(m) == domains[-1])

    def can_safely_remove_etcd_member(self, machine: Manifest) -> bool:
        """Removing the Machine keeps etcd quorum among the remaining healthy members."""
        members = self.etcd_members()
        remaining = len(members) - (1 if any(m is machine for m in members) else 0)
        healthy = sum(1 for m in members if m is not machine and self.healthy(m))
        return healthy >= remaining // 2 + 1


def _domain(machine: Manifest) -> str:
    domain: str = machine["spec"].get("failureDomain", "")
    return domain
