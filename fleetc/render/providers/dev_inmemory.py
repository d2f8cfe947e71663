"""CAPI's Dev provider with the in-memory backend: machines, nodes, etcd and API servers are simulated.

Used for fleet-scale tests without real machines (CAPI's own scale tests use it). Start-up durations follow
CAPI's in-memory ClusterClass example.
"""

from __future__ import annotations

from fleetc.contract.vocabulary import infrastructure_api
from fleetc.core.keys import Manifest
from fleetc.render.providers.base import ClassExtras, InfraKinds, MachineRequest
from fleetc.schema.cluster import ClusterDocument
from fleetc.schema.provider import DevInMemorySpec, ProviderDocument

API_VERSION = infrastructure_api("v1beta2")
EVICTION_OFF = "nodefs.available<0%,nodefs.inodesFree<0%,imagefs.available<0%"
_STARTUP = {"vm": "10s", "node": "2s", "apiServer": "2s", "etcd": "2s"}


class DevInMemory:
    """Simulated machines inside the CAPD controller."""

    kinds = InfraKinds(API_VERSION, "DevClusterTemplate", "DevMachineTemplate")
    spec_type = DevInMemorySpec

    def cluster_template_spec(self, provider: ProviderDocument) -> Manifest:
        """An in-memory DevCluster."""
        return {"backend": {"inMemory": {}}}

    def machine_template_spec(self, provider: ProviderDocument, machine: MachineRequest) -> Manifest:
        """A simulated machine with CAPI's example start-up times."""
        backend = {
            part: {"provisioning": {"startupDuration": duration, "startupJitter": "0.2"}}
            for part, duration in _STARTUP.items()
        }
        return {"backend": {"inMemory": backend}}

    def class_extras(self, provider: ProviderDocument) -> ClassExtras:
        """Simulated nodes report no disk; evictions on disk pressure are turned off."""
        return ClassExtras(kubelet_args={"eviction-hard": EVICTION_OFF})

    def cluster_variables(self, provider: ProviderDocument, cluster: ClusterDocument) -> list[Manifest]:
        """No per-cluster values."""
        return []


PROVIDER = DevInMemory()
