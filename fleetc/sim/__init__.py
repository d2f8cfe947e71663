"""The simulated CAPI management plane: what ``fleetc apply --local`` and ``fleetc simulate`` run against.

Its own package, independent of fleetc's rollout controller (:mod:`fleetc.rollout`): neither imports the other.

With no real Cluster API available, simulated controllers follow CAPI v1.14 behaviour and write the same v1beta2
status fields and conditions a real management cluster shows (the shapes of
``shared/capi/v1.14.0/status-fixtures``), so the rollout gates read the same signals here and there:

- :mod:`~fleetc.sim.topology` — Cluster + ClusterClass → infrastructure cluster, KubeadmControlPlane,
  MachineDeployments, MachineHealthChecks; upgrade sequencing; ClusterClass rebase; Cluster status;
- :mod:`~fleetc.sim.kcp` — KubeadmControlPlane: init/join, rolling update, preflight, remediation;
- :mod:`~fleetc.sim.machinedeployment` / :mod:`~fleetc.sim.machineset` — rolling update;
  :mod:`~fleetc.sim.machineset_rules` — MachineSet preflight checks, remediation and deletion order;
- :mod:`~fleetc.sim.machine` — Machine lifecycle (bootstrap → infrastructure → Node) and status;
  :mod:`~fleetc.sim.machine_delete` — the stages of a Machine's deletion (drain, hooks, infrastructure);
- :mod:`~fleetc.sim.mhc` — MachineHealthCheck (node start-up timeout, unhealthy conditions);
- :mod:`~fleetc.sim.infra` / :mod:`~fleetc.sim.inmemory` / :mod:`~fleetc.sim.faults` — the infrastructure provider
  interface and the bundled in-memory provider with fault injection (flags: :mod:`~fleetc.sim.fault_flags`);
- :mod:`~fleetc.sim.plane` — :func:`install` and :func:`apply_objects`.

Everything is deterministic for a given seed on a virtual clock.
"""

from fleetc.core.errors import FaultsError, ProviderAPIError
from fleetc.sim.faults import Faults, load_faults, parse_faults
from fleetc.sim.infra import InfrastructureProvider, MachineBoot, MachineRequest
from fleetc.sim.inmemory import BootProfile, InMemoryProvider
from fleetc.sim.plane import SimulatedPlane, apply_objects, install

__all__ = [
    "BootProfile",
    "Faults",
    "FaultsError",
    "InMemoryProvider",
    "InfrastructureProvider",
    "MachineBoot",
    "MachineRequest",
    "ProviderAPIError",
    "SimulatedPlane",
    "apply_objects",
    "install",
    "load_faults",
    "parse_faults",
]
