"""The provider registry: every infrastructure provider implementation, found by the spec type it implements.

Provider type names live in one place, :data:`fleetc.schema.provider.ProviderSpec` (with
:data:`~fleetc.schema.provider.PROVIDER_SPECS` derived from it); each implementation names the spec class it
implements, and this explicit list holds the implementations. Adding a provider type: its spec class in
:mod:`fleetc.schema.provider`, its module here beside the others (independent of them), and one line below.
Callers: :mod:`fleetc.render.clusterclass`, :mod:`fleetc.render.compile`.
"""

from __future__ import annotations

from fleetc.render.providers import aws, azure, dev_docker, dev_inmemory, gcp, openstack, vsphere
from fleetc.render.providers.base import InfraProvider
from fleetc.schema.provider import PROVIDER_SPECS, ProviderSpecBase

IMPLEMENTATIONS: tuple[InfraProvider, ...] = (
    dev_docker.PROVIDER,
    dev_inmemory.PROVIDER,
    aws.PROVIDER,
    azure.PROVIDER,
    vsphere.PROVIDER,
    openstack.PROVIDER,
    gcp.PROVIDER,
)
_BY_SPEC: dict[type[ProviderSpecBase], InfraProvider] = {p.spec_type: p for p in IMPLEMENTATIONS}


def provider_for(provider_type: str) -> InfraProvider:
    """The implementation of a provider type (``spec.type``, such as ``aws``)."""
    return _BY_SPEC[PROVIDER_SPECS[provider_type]]
