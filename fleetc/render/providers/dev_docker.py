"""CAPI's Dev provider with the Docker backend (``DevClusterTemplate``/``DevMachineTemplate``, v1beta2).

Replaces the deprecated ``Docker*`` kinds (CAPI v1.13). Machine pools use ``DevMachinePoolTemplate`` (same
``backend.docker`` spec). Sizes mean nothing to containers, so the machine
type is ignored; kubelet flags follow CAPI's quick-start (disk-pressure evictions off in containers).
"""

from __future__ import annotations

from fleetc.contract.vocabulary import infrastructure_api
from fleetc.core.keys import Manifest
from fleetc.render.providers.base import ClassExtras, InfraKinds, MachineRequest
from fleetc.schema.cluster import ClusterDocument
from fleetc.schema.provider import DevDockerSpec, ProviderDocument

API_VERSION = infrastructure_api("v1beta2")
EVICTION_OFF = "nodefs.available<0%,nodefs.inodesFree<0%,imagefs.available<0%"
DOCKER_CERT_SANS = ("localhost", "127.0.0.1", "0.0.0.0", "host.docker.internal")


class DevDocker:
    """Machines are Docker containers on the management host."""

    kinds = InfraKinds(API_VERSION, "DevClusterTemplate", "DevMachineTemplate", "DevMachinePoolTemplate")
    spec_type = DevDockerSpec

    def cluster_template_spec(self, provider: ProviderDocument) -> Manifest:
        """A Docker-backed DevCluster; failure domains become Docker failure domains, sorted by name (CAPD's
        webhook refuses them in any other order; the order does not change which machine goes where)."""
        docker: Manifest = {}
        if provider.spec.failure_domains:
            domains = sorted(provider.spec.failure_domains)
            docker["failureDomains"] = [{"name": name, "controlPlane": True} for name in domains]
        return {"backend": {"docker": docker}}

    def machine_template_spec(self, provider: ProviderDocument, machine: MachineRequest) -> Manifest:
        """A container with the kind node image CAPI picks for the version."""
        return {"backend": {"docker": {}}}

    def class_extras(self, provider: ProviderDocument) -> ClassExtras:
        """Container nodes report no real disk; evictions on disk pressure are turned off."""
        return ClassExtras(kubelet_args={"eviction-hard": EVICTION_OFF}, cert_sans=list(DOCKER_CERT_SANS))

    def cluster_variables(self, provider: ProviderDocument, cluster: ClusterDocument) -> list[Manifest]:
        """No per-cluster values."""
        return []


PROVIDER = DevDocker()
