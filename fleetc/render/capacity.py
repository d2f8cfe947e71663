"""Scale-from-zero capacity: what one machine of a pool offers, for the cluster autoscaler.

The autoscaler can scale a MachineDeployment up from zero only when it knows what a new machine would bring.
CAPA and CAPZ publish it in their machine templates' ``status.capacity``; CAPV and CAPG publish nothing, so
fleetc writes the ``capacity.cluster-autoscaler.kubernetes.io/*`` annotations on the MachineDeployments of
autoscaled pools: on vSphere from the pool's machine type, on GCP from the Provider's
``settings.machineCapacities`` (validation requires an entry for a pool that may scale from zero).

Caller: :func:`fleetc.render.compile.compile_fleet`, through :func:`fleetc.render.cluster.cluster_object`.
"""

from __future__ import annotations

from fleetc.schema.provider import GcpSpec, MachineCapacity, ProviderDocument, VSphereSpec

PREFIX = "capacity.cluster-autoscaler.kubernetes.io"


def _annotations(cpu: int, memory_mib: int, gpus: int = 0) -> dict[str, str]:
    annotations = {f"{PREFIX}/cpu": str(cpu), f"{PREFIX}/memory": f"{memory_mib}Mi"}
    if gpus:
        annotations[f"{PREFIX}/gpu-count"] = str(gpus)
    return annotations


def capacity_annotations(provider: ProviderDocument, machine_type: str | None) -> dict[str, str]:
    """The capacity annotations of a machine type on a provider whose templates publish none (else ``{}``)."""
    spec = provider.spec
    if machine_type is None:
        return {}
    if isinstance(spec, VSphereSpec):
        hardware = spec.settings.machine_type(machine_type)
        return _annotations(hardware.num_cpus, hardware.memory_mib) if hardware is not None else {}
    if isinstance(spec, GcpSpec):
        capacity: MachineCapacity | None = spec.settings.machine_capacities.get(machine_type)
        return _annotations(capacity.cpu, capacity.memory_mib, capacity.gpus) if capacity is not None else {}
    return {}
