"""Machine pools (worker pools of ``kind: pool``): which providers can run them, and the rules for them.

A ClusterClass machine pool class (CAPI v1beta2 ``spec.workers.machinePools``) names a bootstrap template
(``KubeadmConfigTemplate``) and an *infrastructure machine pool template*, which the topology controller clones
into each cluster's ``InfraMachinePool``. A provider therefore runs pools in a ClusterClass only when its pinned
release ships such a template kind. At the versions fleetc is checked against (``tests/upstream/pins.toml``),
only CAPI's Dev provider with the Docker backend does (``DevMachinePoolTemplate``); the cloud providers have
machine pool kinds but no template for them, or only managed-Kubernetes ones (EKS, AKS, GKE) that need a managed
control plane instead of kubeadm. :data:`NO_POOL_TEMPLATE` says why, per provider type, and the error says it to
the user. The render side (:mod:`fleetc.render.providers`) names the template kind; a test keeps both in step.

Caller: :func:`fleetc.schema.rules.check`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from fleetc.core.diagnostics import Diagnostic
from fleetc.schema.model import Fleet

NO_POOL_TEMPLATE: Final[dict[str, str]] = {
    "aws": (
        "CAPA v2.11 has AWSMachinePool but no AWSMachinePoolTemplate, which a ClusterClass machine pool needs "
        "(AWSManagedMachinePool is for EKS, not a kubeadm control plane)"
    ),
    "azure": (
        "CAPZ v1.26 has AzureMachinePool but no AzureMachinePoolTemplate, which a ClusterClass machine pool needs "
        "(AzureManagedMachinePoolTemplate is for AKS, not a kubeadm control plane)"
    ),
    "gcp": (
        "CAPG v1.12 has GCPMachinePool but no GCPMachinePoolTemplate, which a ClusterClass machine pool needs "
        "(GCPManagedMachinePoolTemplate is for GKE, not a kubeadm control plane)"
    ),
    "vsphere": "CAPV v1.16 has no machine pool kinds",
    "openstack": "CAPO v0.14 has no machine pool kinds",
    "dev-inmemory": "CAPI v1.14's DevMachinePoolTemplate has only a docker backend",
}
"""Provider types without a machine pool template at the pinned versions, and why (every other type has one)."""


def supports_machine_pools(provider_type: str) -> bool:
    """True when clusters on this provider type may have worker pools of ``kind: pool``."""
    return provider_type not in NO_POOL_TEMPLATE


def pool_rules(fleet: Fleet) -> Iterator[Diagnostic]:
    """Machine pools carry no health check (CAPI has no MachineHealthCheck for them); a cluster with a machine
    pool runs on a provider that has a machine pool template."""
    for entry in fleet.classes.values():
        for name, pool in entry.document.spec.workers.items():
            if pool.is_machine_pool and pool.health_check is not None:
                message = (
                    "a machine pool (kind: pool) has no health check: CAPI's ClusterClass gives MachinePools no "
                    "MachineHealthCheck; use kind: deployment for machine remediation"
                )
                yield entry.origin.diagnostic(("spec", "workers", name, "healthCheck"), message, at_key=True)
    for cluster in fleet.clusters.values():
        cluster_class = fleet.classes.get(cluster.document.spec.class_)
        provider = fleet.providers.get(cluster.document.spec.provider)
        if cluster_class is None or provider is None:
            continue  # an unresolved reference is reported by the reference rules
        pools = [n for n, p in cluster_class.document.spec.workers.items() if p.is_machine_pool]
        provider_type = provider.document.spec.type
        if pools and not supports_machine_pools(provider_type):
            message = (
                f"class {cluster_class.document.metadata.name} has machine pool '{pools[0]}' (kind: pool), which "
                f"provider {provider.document.metadata.name} ({provider_type}) cannot run: "
                f"{NO_POOL_TEMPLATE[provider_type]}"
            )
            yield cluster.origin.diagnostic(("spec", "provider"), message)
