"""The embedded management plane: install the simulated CAPI controllers on a manager, and apply manifests.

:func:`install` registers the simulated topology, KubeadmControlPlane, MachineDeployment, MachineSet, Machine,
MachineHealthCheck and MachinePool controllers on a :class:`~fleetc.runtime.manager.Manager` (after any store
restore: the controllers' read cache primes itself from the store's contents).

:func:`apply_objects` creates or updates rendered objects the way ``kubectl apply --server-side
--field-manager=fleetc`` does on a real API server (through :meth:`fleetc.runtime.store.Store.apply`): the manager
owns exactly the fields it applied (recorded in
``metadata.managedFields`` as FieldsV1, as Kubernetes does); fields it applied before but not now are removed;
fields other managers set are kept — the topology controller's ``controlPlaneRef``, ``infrastructureRef``,
``controlPlaneEndpoint``, labels, annotations and finalizers survive a re-apply of the Cluster from git
(semantics reference §1.1). Lists are replaced whole (atomic), and ``status`` in a manifest is ignored.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from fleetc.contract.vocabulary import CAPI_GROUP
from fleetc.core.keys import Manifest, ObjectKey
from fleetc.runtime.clock import Clock
from fleetc.runtime.manager import Manager
from fleetc.runtime.store import FIELD_MANAGER, Store
from fleetc.sim.cache import ObjectCache
from fleetc.sim.context import SimContext
from fleetc.sim.faults import Faults
from fleetc.sim.infra import InfrastructureProvider
from fleetc.sim.inmemory import InMemoryProvider
from fleetc.sim.kcp import SimulatedKubeadmControlPlaneReconciler
from fleetc.sim.machine import SimulatedMachineReconciler
from fleetc.sim.machinedeployment import SimulatedMachineDeploymentReconciler
from fleetc.sim.machinepool import SimulatedMachinePoolReconciler
from fleetc.sim.machineset import SimulatedMachineSetReconciler
from fleetc.sim.mhc import SimulatedMachineHealthCheckReconciler
from fleetc.sim.topology import SimulatedTopologyReconciler


@dataclass(frozen=True)
class SimulatedPlane:
    """A handle on the installed simulation: its shared context (store, read cache, clock, provider, seed)."""

    context: SimContext

    @property
    def cache(self) -> ObjectCache:
        """The controllers' read cache (read-only objects, always current)."""
        return self.context.cache


def install(manager: Manager, provider: InfrastructureProvider | None = None, seed: int = 0) -> SimulatedPlane:
    """Register every simulated CAPI controller on ``manager`` (default provider: in-memory, no faults)."""
    clock: Clock = manager.clock
    chosen = provider if provider is not None else InMemoryProvider(seed=seed)
    if isinstance(chosen, InMemoryProvider) and chosen.start is None:
        chosen.start = clock.now()
    context = SimContext(manager.store, ObjectCache(manager.store), clock, chosen, seed, manager.enqueue)
    for reconciler in (
        SimulatedTopologyReconciler(context),
        SimulatedKubeadmControlPlaneReconciler(context),
        SimulatedMachineDeploymentReconciler(context),
        SimulatedMachineSetReconciler(context),
        SimulatedMachineReconciler(context),
        SimulatedMachineHealthCheckReconciler(context),
        SimulatedMachinePoolReconciler(context),
    ):
        manager.add(reconciler)
    return SimulatedPlane(context)


def apply_objects(
    store: Store, manifests: Iterable[Manifest], *, field_manager: str = FIELD_MANAGER
) -> list[ObjectKey]:
    """Server-side apply each manifest (:meth:`~fleetc.runtime.store.Store.apply`); returns the keys of the objects
    that were created or changed."""
    return [
        ObjectKey.of(manifest)
        for manifest in manifests
        if store.apply(manifest, field_manager=field_manager) != "unchanged"
    ]


def use_faults(manager: Manager, provider: InMemoryProvider, faults: Faults) -> None:
    """Give the provider new faults; when they can make a joined Node go bad, every Machine is looked at again
    (a Machine whose Node is long up has nothing else to wake it)."""
    provider.faults = faults
    if faults.node_failures:
        for machine in manager.store.list(CAPI_GROUP, "Machine"):
            manager.enqueue(SimulatedMachineReconciler.name, ObjectKey.of(machine))
