"""The ``Provider`` document: an infrastructure target and the mapping from sizes to machine types.

``spec.type`` picks the provider-specific settings. Credentials are only ever *referenced* (an identity or
Secret on the management cluster); the spec has no field that could hold a secret value.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from fleetc.schema.base import API_VERSION, ObjectMeta, SpecModel
from fleetc.schema.types import Name

ProviderType = Literal["dev-docker", "dev-inmemory", "aws", "azure", "vsphere", "openstack", "gcp"]
DEV_TYPES: frozenset[str] = frozenset({"dev-docker", "dev-inmemory"})


class CredentialsRef(SpecModel):
    """A reference to credentials on the management cluster (never the credentials themselves)."""

    kind: str = Field(pattern=r"^[A-Z][A-Za-z0-9]*$", description="e.g. Secret, AWSClusterStaticIdentity.")
    name: Name
    namespace: Name | None = None


class _ProviderSpecBase(SpecModel):
    region: str | None = Field(default=None, description="Region or datacenter.")
    credentials_ref: CredentialsRef | None = None
    sizes: dict[Name, str] = Field(
        default_factory=dict, description="Size name → machine type (instance type, VM size, flavor)."
    )
    failure_domains: list[str] = Field(default_factory=list, description="Zones machines may be spread over.")


class DevSettings(SpecModel):
    """Settings of the local development providers (none yet)."""


class DevDockerSpec(_ProviderSpecBase):
    """CAPI's Dev provider with the Docker backend: one container per machine, for laptops and CI."""

    type: Literal["dev-docker"]
    settings: DevSettings = Field(default_factory=DevSettings)


class DevInMemorySpec(_ProviderSpecBase):
    """CAPI's Dev provider with the in-memory backend: simulated machines, no real nodes."""

    type: Literal["dev-inmemory"]
    settings: DevSettings = Field(default_factory=DevSettings)


class AwsSettings(SpecModel):
    """Amazon Web Services (CAPA) settings."""

    ssh_key_name: str | None = None
    ami_id: str | None = Field(default=None, alias="amiID")
    additional_tags: dict[str, str] = Field(default_factory=dict)


class AwsSpec(_ProviderSpecBase):
    """Amazon Web Services through CAPA."""

    type: Literal["aws"]
    region: str
    settings: AwsSettings = Field(default_factory=AwsSettings)


class AzureSettings(SpecModel):
    """Microsoft Azure (CAPZ) settings."""

    subscription_id: str = Field(alias="subscriptionID")
    resource_group: str | None = None


class AzureSpec(_ProviderSpecBase):
    """Microsoft Azure through CAPZ; ``credentialsRef`` names an AzureClusterIdentity."""

    type: Literal["azure"]
    region: str
    credentials_ref: CredentialsRef
    settings: AzureSettings


class VSphereSettings(SpecModel):
    """VMware vSphere (CAPV) settings."""

    server: str
    thumbprint: str | None = None
    datacenter: str
    datastore: str
    network: str
    template: str = Field(description="The VM template machines are cloned from.")
    folder: str | None = None
    resource_pool: str | None = None


class VSphereSpec(_ProviderSpecBase):
    """VMware vSphere through CAPV; clusters need a controlPlaneEndpoint."""

    type: Literal["vsphere"]
    credentials_ref: CredentialsRef
    settings: VSphereSettings


class OpenStackSettings(SpecModel):
    """OpenStack (CAPO) settings."""

    cloud_name: str = "openstack"
    image: str
    external_network_id: str | None = Field(default=None, alias="externalNetworkID")
    ssh_key_name: str | None = None


class OpenStackSpec(_ProviderSpecBase):
    """OpenStack through CAPO; ``credentialsRef`` names the Secret holding clouds.yaml."""

    type: Literal["openstack"]
    credentials_ref: CredentialsRef
    settings: OpenStackSettings


class GcpSettings(SpecModel):
    """Google Cloud (CAPG) settings."""

    project: str
    network: str = "default"
    image: str | None = None


class GcpSpec(_ProviderSpecBase):
    """Google Cloud through CAPG."""

    type: Literal["gcp"]
    region: str
    settings: GcpSettings


ProviderSpec = Annotated[
    DevDockerSpec | DevInMemorySpec | AwsSpec | AzureSpec | VSphereSpec | OpenStackSpec | GcpSpec,
    Field(discriminator="type"),
]


class ProviderDocument(SpecModel):
    """An infrastructure target clusters are placed on."""

    api_version: Literal["fleetc.io/v1alpha1"] = API_VERSION
    kind: Literal["Provider"] = "Provider"
    metadata: ObjectMeta
    spec: ProviderSpec
