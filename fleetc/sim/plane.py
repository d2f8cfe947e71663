"""The embedded management plane: install the simulated CAPI controllers on a manager, and apply manifests.

:func:`install` registers the simulated topology, KubeadmControlPlane, MachineDeployment, MachineSet, Machine and
MachineHealthCheck controllers on a :class:`~fleetc.runtime.manager.Manager` (after any store restore: the
controllers' read cache primes itself from the store's contents).

:func:`apply_objects` creates or updates rendered objects the way ``kubectl apply --server-side
--field-manager=fleetc`` does on a real API server: the manager owns exactly the fields it applied (recorded in
``metadata.managedFields`` as FieldsV1, as Kubernetes does); fields it applied before but not now are removed;
fields other managers set are kept — the topology controller's ``controlPlaneRef``, ``infrastructureRef``,
``controlPlaneEndpoint``, labels, annotations and finalizers survive a re-apply of the Cluster from git
(semantics reference §1.1). Lists are replaced whole (atomic), and ``status`` in a manifest is ignored.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from fleetc.core.keys import Manifest, ObjectKey
from fleetc.runtime.clock import Clock
from fleetc.runtime.manager import Manager
from fleetc.runtime.store import MemoryStore, copy
from fleetc.sim.cache import ObjectCache
from fleetc.sim.context import SimContext
from fleetc.sim.infra import InfrastructureProvider
from fleetc.sim.inmemory import InMemoryProvider
from fleetc.sim.kcp import SimulatedKubeadmControlPlaneReconciler
from fleetc.sim.machine import SimulatedMachineReconciler
from fleetc.sim.machinedeployment import SimulatedMachineDeploymentReconciler
from fleetc.sim.machineset import SimulatedMachineSetReconciler
from fleetc.sim.mhc import SimulatedMachineHealthCheckReconciler
from fleetc.sim.topology import SimulatedTopologyReconciler

FIELD_MANAGER = "fleetc"
_IDENTITY = ("apiVersion", "kind")
FieldsV1 = dict[str, Any]


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
    ):
        manager.add(reconciler)
    return SimulatedPlane(context)


def apply_objects(
    store: MemoryStore, manifests: Iterable[Manifest], *, field_manager: str = FIELD_MANAGER
) -> list[ObjectKey]:
    """Server-side apply each manifest; returns the keys of the objects that were created or changed."""
    changed = []
    for manifest in manifests:
        key = ObjectKey.of(manifest)
        applied = {k: v for k, v in manifest.items() if k != "status"}
        current = store.find(key)
        if current is None:
            created = copy(applied)
            created["metadata"]["managedFields"] = [_entry(field_manager, applied)]
            store.create(created)
            changed.append(key)
            continue
        merged = _merged(current, applied, field_manager)
        if merged != current:
            store.update(merged)
            changed.append(key)
    return changed


def fields_of(value: Any) -> FieldsV1:
    """The FieldsV1 set of an applied configuration (maps are walked, lists and scalars are leaves)."""
    if not isinstance(value, dict) or not value:
        return {}
    return {f"f:{k}": fields_of(v) for k, v in value.items()}


def _owned(manifest: Manifest) -> FieldsV1:
    trimmed = {k: v for k, v in manifest.items() if k not in _IDENTITY}
    metadata = {k: v for k, v in trimmed.get("metadata", {}).items() if k not in ("name", "namespace", "managedFields")}
    return fields_of({**trimmed, "metadata": metadata})


def _entry(field_manager: str, manifest: Manifest) -> Manifest:
    return {
        "apiVersion": manifest["apiVersion"],
        "fieldsType": "FieldsV1",
        "fieldsV1": _owned(manifest),
        "manager": field_manager,
        "operation": "Apply",
    }


def _merged(current: Manifest, applied: Manifest, field_manager: str) -> Manifest:
    result: Manifest = copy(current)
    entries = result["metadata"].get("managedFields", [])
    previous: FieldsV1 = next((e.get("fieldsV1", {}) for e in entries if e.get("manager") == field_manager), {})
    _remove(result, previous, _owned(applied))
    _merge(result, {k: v for k, v in applied.items() if k != "metadata"})
    metadata = {k: v for k, v in applied["metadata"].items() if k not in ("managedFields", "resourceVersion")}
    _merge(result.setdefault("metadata", {}), metadata)
    others = [e for e in entries if e.get("manager") != field_manager]
    result["metadata"]["managedFields"] = [*others, _entry(field_manager, applied)]
    return result


def _remove(target: dict[str, Any], before: FieldsV1, now: FieldsV1) -> None:
    """Remove fields the manager owned before and no longer applies."""
    for field, children in before.items():
        name = field.removeprefix("f:")
        if name not in target:
            continue
        if field not in now:
            del target[name]
        elif children and isinstance(target[name], dict):
            _remove(target[name], children, now[field])


def _merge(target: dict[str, Any], patch: dict[str, Any]) -> None:
    for name, value in patch.items():
        if isinstance(value, dict) and isinstance(target.get(name), dict):
            _merge(target[name], value)
        else:
            target[name] = copy(value)
