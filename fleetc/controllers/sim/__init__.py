"""A simulated CAPI management plane: what ``fleetc apply --local`` and ``fleetc simulate`` run against.

With no real Cluster API available, simulated controllers follow CAPI v1.14 behaviour and write the same v1beta2
status fields and conditions a real management cluster shows (the shapes of
``shared/capi/v1.14.0/status-fixtures``), so the rollout gates read the same signals here and there:

- :mod:`~fleetc.controllers.sim.topology` — Cluster + ClusterClass → infrastructure cluster, KubeadmControlPlane,
  MachineDeployments, MachineHealthChecks; upgrade sequencing; ClusterClass rebase; Cluster status;
- :mod:`~fleetc.controllers.sim.kcp` — KubeadmControlPlane: init/join, rolling update, preflight, remediation;
- :mod:`~fleetc.controllers.sim.machinedeployment` / :mod:`~fleetc.controllers.sim.machineset` — rolling update;
- :mod:`~fleetc.controllers.sim.machine` — Machine lifecycle (bootstrap → infrastructure → Node) and status;
- :mod:`~fleetc.controllers.sim.mhc` — MachineHealthCheck (node start-up timeout, unhealthy conditions);
- :mod:`~fleetc.controllers.sim.infra` / :mod:`~fleetc.controllers.sim.inmemory` — the infrastructure provider
  interface and the bundled in-memory provider with fault injection;
- :mod:`~fleetc.controllers.sim.plane` — :func:`install` and :func:`apply_objects`.

Everything is deterministic for a given seed on a virtual clock.
"""

from fleetc.controllers.sim.infra import InfrastructureProvider, MachineBoot, MachineRequest, ProviderAPIError
from fleetc.controllers.sim.inmemory import (
    BootProfile,
    Faults,
    FaultsError,
    InMemoryProvider,
    load_faults,
    parse_faults,
)
from fleetc.controllers.sim.plane import SimulatedPlane, apply_objects, install

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
