"""The infrastructure provider interface of the simulated management plane.

In CAPI an infrastructure provider is a set of controllers (for ``DevCluster``/``DevMachine``, ``AWSMachine``…)
that turn infrastructure objects into cloud resources and report back through the provider contract
(``status.initialization.provisioned``, ``spec.providerID``, a ``Ready`` condition). The simulation collapses
that into calls the simulated Machine and topology controllers make:

- :meth:`InfrastructureProvider.provision_cluster` — the infrastructure cluster (network, load balancer); returns
  the control-plane endpoint;
- :meth:`InfrastructureProvider.provision_machine` — start a machine; returns when its VM and its Node will be
  up (the Node possibly never), so a run in virtual time jumps straight there;
- :meth:`InfrastructureProvider.delete_machine` — tear it down; returns when the machine is gone;
- :meth:`InfrastructureProvider.node_fault` — whether (and when) a joined Node goes bad;
- :meth:`InfrastructureProvider.drain_blocked_until` — whether (and until when) a PodDisruptionBudget refuses
  evictions from the Node of a machine being drained (the simulation has no Pods);
- :meth:`InfrastructureProvider.volumes_attached_until` — whether (and until when) a volume stays attached to that
  Node once it is drained (the simulation has no volumes).

Any of them may raise :class:`~fleetc.core.errors.ProviderAPIError` (a cloud API refusing or timing out), which
the runtime retries with per-key backoff, as controller-runtime does for a provider controller's reconcile error.
A provider must be deterministic for a given seed: the same requests at the same times give the same answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from fleetc.core.keys import Manifest

Role = Literal["control-plane", "worker"]


@dataclass(frozen=True)
class ClusterRequest:
    """An infrastructure cluster to provision."""

    namespace: str
    cluster: str
    class_revision: str


@dataclass(frozen=True)
class Endpoint:
    """Where the control plane of a cluster answers."""

    host: str
    port: int


@dataclass(frozen=True)
class MachineRequest:
    """A machine to provision: who it is and what it is made from."""

    namespace: str
    cluster: str
    machine: str
    role: Role
    pool: str
    """The topology name of the worker pool (MachineDeployment ``topology.cluster.x-k8s.io/deployment-name``);
    empty for control-plane machines."""
    pool_class: str
    """The ClusterClass worker class of the pool; empty for control-plane machines."""
    version: str
    class_revision: str
    """The ClusterClass (revision) the Cluster referenced when the machine was created."""
    control_plane_initialized: bool
    template: Manifest | None
    """``spec.template.spec`` of the infrastructure machine template, when it still exists."""
    upgrade: bool = False
    """The machine's owner (KubeadmControlPlane or MachineDeployment) is rolling out a change: it still has
    Machines of another version, template or kubeadm configuration."""


NodeState = Literal["NotReady", "Deleted"]


@dataclass(frozen=True)
class NodeFault:
    """A joined Node that goes bad at ``at``: ``NotReady`` (its kubelet stops reporting) or ``Deleted``."""

    at: float
    state: NodeState


@dataclass(frozen=True)
class MachineBoot:
    """When a provisioned machine's VM comes up, and its Node (None: never)."""

    vm_ready_at: float
    node_ready_at: float | None


class InfrastructureProvider(Protocol):
    """A simulated infrastructure provider."""

    name: str
    epoch: int
    """Changes whenever the provider's behaviour changes (new faults): the Machine controller then looks at every
    Machine again."""

    @property
    def asks_upgrade(self) -> bool:
        """False when no answer depends on :attr:`MachineRequest.upgrade` (callers may leave it False)."""
        ...

    @property
    def checks_nodes(self) -> bool:
        """False when :meth:`node_fault` would answer None for every machine (callers skip asking)."""
        ...

    def provider_id(self, request: MachineRequest) -> str:
        """The ``spec.providerID`` of a machine (``in-memory://<machine>``)."""
        ...

    def provision_cluster(self, request: ClusterRequest, now: float) -> Endpoint:
        """Provision the infrastructure cluster; :class:`~fleetc.core.errors.ProviderAPIError` when the API fails."""
        ...

    def provision_machine(self, request: MachineRequest, now: float) -> MachineBoot:
        """Start a machine; :class:`~fleetc.core.errors.ProviderAPIError` when the API fails."""
        ...

    def delete_machine(self, request: MachineRequest, now: float) -> float:
        """Delete a machine; returns when it is gone (``now``: at once); :class:`~fleetc.core.errors.ProviderAPIError`
        when the API fails."""
        ...

    def node_fault(self, request: MachineRequest, node_up_at: float) -> NodeFault | None:
        """When and how the joined Node of a machine goes bad (None: it stays healthy)."""
        ...

    def drain_blocked_until(self, request: MachineRequest, drain_started: float) -> float | None:
        """Until when evictions from the machine's Node are refused (``math.inf``: for ever; None: not blocked)."""
        ...

    def volumes_attached_until(self, request: MachineRequest, wait_started: float) -> float | None:
        """Until when a volume stays attached to the drained machine's Node (``math.inf``: for ever; None: none)."""
        ...
