"""The ``Provider`` document: an infrastructure target and the mapping from sizes to machine types.

``spec.type`` picks the provider-specific settings. Credentials are only ever *referenced* (an identity or
Secret on the management cluster); the spec has no field that could hold a secret value. Each cloud type
accepts only the reference kinds its CAPI provider understands, so a wrong kind is a validation error and
never an object the provider rejects later.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal, get_args

from pydantic import Field, field_validator, model_validator

from fleetc.schema.base import API_VERSION, Addon, ObjectMeta, SpecModel
from fleetc.schema.types import Name


class CredentialsRef(SpecModel):
    """A reference to credentials on the management cluster (never the credentials themselves)."""

    kind: str = Field(pattern=r"^[A-Z][A-Za-z0-9]*$", description="e.g. Secret, AWSClusterStaticIdentity.")
    name: Name
    namespace: Name | None = None


class ProviderSpecBase(SpecModel):
    """What every provider type's spec has; ``type`` (a literal per subclass) tells the types apart."""

    region: str | None = Field(default=None, description="Region or datacenter.")
    credentials_ref: CredentialsRef | None = None
    sizes: dict[Name, str] = Field(
        default_factory=dict, description="Size name → machine type (instance type, VM size, flavor)."
    )
    failure_domains: list[str] = Field(default_factory=list, description="Zones machines may be spread over.")
    addons: list[Addon] = Field(
        default_factory=list, description="Manifests every cluster on the provider gets (its cloud controller manager)."
    )

    injected_variables: ClassVar[tuple[str, ...]] = ()
    """ClusterClass variables the provider declares on every class it renders; a class may not declare them too."""


class DevSettings(SpecModel):
    """Settings of the local development providers (none yet)."""


class DevDockerSpec(ProviderSpecBase):
    """CAPI's Dev provider with the Docker backend: one container per machine, for laptops and CI."""

    type: Literal["dev-docker"]
    settings: DevSettings = Field(default_factory=DevSettings)


class DevInMemorySpec(ProviderSpecBase):
    """CAPI's Dev provider with the in-memory backend: simulated machines, no real nodes."""

    type: Literal["dev-inmemory"]
    settings: DevSettings = Field(default_factory=DevSettings)


class AwsSettings(SpecModel):
    """Amazon Web Services (CAPA) settings."""

    ssh_key_name: str | None = Field(
        default=None,
        description="EC2 key pair on every machine (and the bastion); none by default (CAPA would otherwise "
        "use a key pair named 'default').",
    )
    ami_id: str | None = Field(
        default=None,
        alias="amiID",
        description="Pin one AMI for every machine; only for a fleet whose catalogue has a single Kubernetes "
        "version (an AMI carries one version's kubelet). By default CAPA looks up an AMI for each machine's "
        "Kubernetes version (see imageLookupFormat).",
    )
    image_lookup_format: str | None = Field(
        default=None,
        description="CAPA's AMI name pattern, looked up for each machine's Kubernetes version "
        "('{{.BaseOS}}' and '{{.K8sVersion}}' are CAPA's substitutions); CAPA's published AMIs by default.",
    )
    image_lookup_org: str | None = Field(
        default=None, description="AWS account (owner ID) the AMIs are looked up in; CAPA's by default."
    )
    image_lookup_base_os: str | None = Field(
        default=None, alias="imageLookupBaseOS", description="The base OS of the AMI lookup ({{.BaseOS}})."
    )
    additional_tags: dict[str, str] = Field(default_factory=dict, description="Tags on every AWS resource.")
    control_plane_iam_instance_profile: str = Field(
        default="control-plane.cluster-api-provider-aws.sigs.k8s.io",
        alias="controlPlaneIAMInstanceProfile",
        description="IAM instance profile of control-plane machines (clusterawsadm's default).",
    )
    nodes_iam_instance_profile: str = Field(
        default="nodes.cluster-api-provider-aws.sigs.k8s.io",
        alias="nodesIAMInstanceProfile",
        description="IAM instance profile of worker machines (clusterawsadm's default).",
    )


class AwsCredentialsRef(CredentialsRef):
    """A CAPA identity (cluster-scoped, so without a namespace)."""

    kind: Literal["AWSClusterRoleIdentity", "AWSClusterStaticIdentity", "AWSClusterControllerIdentity"]

    @field_validator("namespace")
    @classmethod
    def _cluster_scoped(cls, value: str | None) -> str | None:
        if value is not None:
            raise ValueError("AWS cluster identities are cluster-scoped: leave namespace out")
        return value

    @model_validator(mode="after")
    def _controller_identity_is_default(self) -> AwsCredentialsRef:
        if self.kind == "AWSClusterControllerIdentity" and self.name != "default":
            raise ValueError("CAPA has exactly one AWSClusterControllerIdentity and it is named 'default'")
        return self


class AwsSpec(ProviderSpecBase):
    """Amazon Web Services through CAPA; ``credentialsRef`` names an AWSCluster*Identity.

    Without ``credentialsRef``, CAPA uses its controller's own credentials.
    """

    type: Literal["aws"]
    region: str
    credentials_ref: AwsCredentialsRef | None = None
    settings: AwsSettings = Field(default_factory=AwsSettings)


class AzureSettings(SpecModel):
    """Microsoft Azure (CAPZ) settings."""

    subscription_id: str = Field(alias="subscriptionID")
    resource_group: str | None = Field(
        default=None,
        description="An existing resource group every cluster's resources go into; by default CAPZ creates "
        "one resource group per cluster, named after the cluster.",
    )


class AzureCredentialsRef(CredentialsRef):
    """An AzureClusterIdentity (namespaced; CAPZ looks in the cluster's namespace when none is given)."""

    kind: Literal["AzureClusterIdentity"]


class AzureSpec(ProviderSpecBase):
    """Microsoft Azure through CAPZ; ``credentialsRef`` names an AzureClusterIdentity."""

    type: Literal["azure"]
    region: str
    credentials_ref: AzureCredentialsRef
    settings: AzureSettings


class VSphereMachineType(SpecModel):
    """The hardware of a vSphere VM (vSphere has no named instance types)."""

    num_cpus: int = Field(alias="numCPUs", ge=2, description="Virtual CPUs (CAPV's minimum is 2).")
    memory_mib: int = Field(alias="memoryMiB", ge=1024, description="Memory in MiB.")
    disk_gib: int = Field(alias="diskGiB", ge=1, description="Size of the cloned disk in GiB.")


VSPHERE_MACHINE_TYPES: dict[str, VSphereMachineType] = {
    name: VSphereMachineType.model_validate({"numCPUs": cpus, "memoryMiB": memory, "diskGiB": disk})
    for name, cpus, memory, disk in (
        ("small", 2, 8192, 25),
        ("medium", 4, 16384, 50),
        ("large", 8, 32768, 100),
        ("xlarge", 16, 65536, 200),
    )
}
"""Built-in vSphere machine types; ``small`` is CAPV's example VM (2 CPUs, 8 GiB, 25 GiB disk)."""

KUBE_VIP_IMAGE = "ghcr.io/kube-vip/kube-vip:v0.8.7"


class VSphereSettings(SpecModel):
    """VMware vSphere (CAPV) settings.

    ``template`` may contain ``{version}``: each machine is then cloned from the template built for its
    Kubernetes version (``ubuntu-2404-kube-{version}`` → ``ubuntu-2404-kube-v1.35.0``), which version upgrades
    need, since the kubeadm binaries are baked into the template.
    """

    server: str = Field(description="vCenter address.")
    thumbprint: str | None = Field(default=None, description="SHA-1 thumbprint of vCenter's certificate.")
    datacenter: str
    datastore: str
    network: str = Field(description="Port group of each machine's NIC (DHCP).")
    template: str = Field(description="The VM template machines are cloned from; may contain {version}.")
    folder: str | None = None
    resource_pool: str | None = None
    machine_types: dict[str, VSphereMachineType] = Field(
        default_factory=dict,
        description="Machine types the sizes map to, on top of the built-in small, medium, large and xlarge.",
    )
    kube_vip: bool = Field(
        default=True,
        description="Run kube-vip on control-plane machines to hold each cluster's controlPlaneEndpoint address "
        "(ARP); turn off when a load balancer in front of the control plane provides it.",
    )
    kube_vip_image: str = KUBE_VIP_IMAGE
    ssh_authorized_keys: list[str] = Field(
        default_factory=list, description="Public keys of the 'capv' user on every machine."
    )

    def machine_type(self, name: str) -> VSphereMachineType | None:
        """The machine type called ``name`` (settings first, then the built-in ones)."""
        return self.machine_types.get(name) or VSPHERE_MACHINE_TYPES.get(name)


class VSphereCredentialsRef(CredentialsRef):
    """A VSphereClusterIdentity (cluster-scoped) or a Secret in each cluster's own namespace."""

    kind: Literal["VSphereClusterIdentity", "Secret"]

    @field_validator("namespace")
    @classmethod
    def _no_namespace(cls, value: str | None) -> str | None:
        if value is not None:
            raise ValueError(
                "CAPV reads the Secret from the cluster's namespace and the identity is cluster-scoped: "
                "leave namespace out"
            )
        return value


class VSphereSpec(ProviderSpecBase):
    """VMware vSphere through CAPV; clusters need a controlPlaneEndpoint."""

    type: Literal["vsphere"]
    credentials_ref: VSphereCredentialsRef
    settings: VSphereSettings

    injected_variables: ClassVar[tuple[str, ...]] = ("controlPlaneEndpoint",)

    @model_validator(mode="after")
    def _sizes_are_machine_types(self) -> VSphereSpec:
        unknown = sorted({t for t in self.sizes.values() if self.settings.machine_type(t) is None})
        if unknown:
            known = ", ".join(sorted({*VSPHERE_MACHINE_TYPES, *self.settings.machine_types}))
            raise ValueError(
                f"sizes map to unknown vSphere machine types: {', '.join(unknown)} "
                f"(known: {known}; define more under settings.machineTypes)"
            )
        return self


class OpenStackSettings(SpecModel):
    """OpenStack (CAPO) settings.

    ``image`` may contain ``{version}``, as in CAPO's own ClusterClass: each machine then boots the image built
    for its Kubernetes version (``ubuntu-2404-kube-{version}`` → ``ubuntu-2404-kube-v1.35.0``).
    """

    cloud_name: str = Field(default="openstack", description="The cloud's entry in clouds.yaml.")
    image: str = Field(description="Glance image name machines boot from; may contain {version}.")
    external_network_id: str | None = Field(default=None, alias="externalNetworkID")
    ssh_key_name: str | None = None
    node_cidr: str = Field(default="10.6.0.0/24", description="The subnet CAPO creates for each cluster.")
    dns_nameservers: list[str] = Field(default_factory=list, description="DNS servers of that subnet.")


class OpenStackCredentialsRef(CredentialsRef):
    """A Secret with clouds.yaml in each cluster's namespace, or a (cluster-scoped) OpenStackClusterIdentity."""

    kind: Literal["Secret", "OpenStackClusterIdentity"]

    @field_validator("namespace")
    @classmethod
    def _no_namespace(cls, value: str | None) -> str | None:
        if value is not None:
            raise ValueError(
                "CAPO reads the Secret from the cluster's namespace and the identity is cluster-scoped: "
                "leave namespace out"
            )
        return value


class OpenStackSpec(ProviderSpecBase):
    """OpenStack through CAPO; ``credentialsRef`` names the Secret holding clouds.yaml."""

    type: Literal["openstack"]
    credentials_ref: OpenStackCredentialsRef
    settings: OpenStackSettings


class MachineCapacity(SpecModel):
    """What one machine of a type offers the scheduler (the cluster autoscaler's scale-from-zero capacity)."""

    cpu: int = Field(ge=1, description="Virtual CPUs.")
    memory_mib: int = Field(alias="memoryMiB", ge=1, description="Memory in MiB.")
    gpus: int = Field(default=0, ge=0, description="GPUs (nvidia.com/gpu).")


class GcpSettings(SpecModel):
    """Google Cloud (CAPG) settings."""

    project: str
    network: str = "default"
    image: str | None = Field(
        default=None,
        description="The Compute Engine image machines boot (required: CAPG's default is an image family in "
        "the cluster's own project that exists only if you built it); '{version}' in it becomes the machine's "
        "Kubernetes version with dashes (v1.35.0 → v1-35-0), as image names allow no dots.",
    )
    machine_capacities: dict[str, MachineCapacity] = Field(
        default_factory=dict,
        description="CPU and memory of the machine types autoscaled pools use: the cluster autoscaler needs "
        "them to scale a pool up from zero, and CAPG publishes none.",
    )


class GcpCredentialsRef(CredentialsRef):
    """A Secret with a service-account key; without a namespace, the one in each cluster's namespace."""

    kind: Literal["Secret"]


class GcpSpec(ProviderSpecBase):
    """Google Cloud through CAPG; without ``credentialsRef`` CAPG uses its controller's own credentials."""

    type: Literal["gcp"]
    region: str
    credentials_ref: GcpCredentialsRef | None = None
    settings: GcpSettings


ProviderSpec = Annotated[
    DevDockerSpec | DevInMemorySpec | AwsSpec | AzureSpec | VSphereSpec | OpenStackSpec | GcpSpec,
    Field(discriminator="type"),
]
"""Every provider type: the one list. A new type is its spec class here; render finds its implementation by it."""


def type_name(spec: type[ProviderSpecBase]) -> str:
    """The ``spec.type`` a spec class stands for (``AwsSpec`` → ``aws``)."""
    name: str = get_args(spec.model_fields["type"].annotation)[0]
    return name


PROVIDER_SPECS: dict[str, type[ProviderSpecBase]] = {
    type_name(spec): spec for spec in get_args(get_args(ProviderSpec)[0])
}
"""Provider type name (``spec.type``) → its spec class, in the order of :data:`ProviderSpec`."""
PROVIDER_TYPES: tuple[str, ...] = tuple(PROVIDER_SPECS)
DEV_TYPES: frozenset[str] = frozenset({type_name(DevDockerSpec), type_name(DevInMemorySpec)})


class ProviderDocument(SpecModel):
    """An infrastructure target clusters are placed on."""

    api_version: Literal["fleetc.io/v1alpha1"] = API_VERSION
    kind: Literal["Provider"] = "Provider"
    metadata: ObjectMeta
    spec: ProviderSpec
