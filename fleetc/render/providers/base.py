"""The interface every infrastructure provider implements, and what providers share.

A provider turns "a machine of this type on this infrastructure" into its CAPI infrastructure templates,
and contributes what its clusters need on top of kubeadm (kubelet flags, ClusterClass variables and patches
for per-cluster values such as a vSphere control-plane address). It names the spec class it implements
(``spec_type``); :func:`spec_of` narrows a Provider document's spec to it. The registry is
:mod:`fleetc.render.providers.registry`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol, TypeVar

from fleetc.contract.vocabulary import BOOTSTRAP_API, CONTROL_PLANE_API
from fleetc.core.errors import CompileError
from fleetc.core.keys import Manifest
from fleetc.schema.cluster import ClusterDocument
from fleetc.schema.provider import ProviderDocument, ProviderSpecBase, type_name

Role = Literal["control-plane", "worker"]
Spec = TypeVar("Spec", bound=ProviderSpecBase)


@dataclass(frozen=True)
class MachineRequest:
    """A machine the class asks for: its role, pool (workers) and provider machine type."""

    role: Role
    machine_type: str | None
    pool: str = ""
    failure_domain: str | None = None


@dataclass(frozen=True)
class InfraKinds:
    """The API version and kinds of a provider's templates."""

    api_version: str
    cluster_template: str
    machine_template: str
    machine_pool_template: str | None = None
    """The infrastructure machine pool template kind (a ClusterClass machine pool needs one), if the provider has
    one; its ``spec.template.spec`` is the machine template's (:mod:`fleetc.schema.pools` says who has none)."""


@dataclass(frozen=True)
class ClassExtras:
    """What a provider adds to every ClusterClass on it."""

    variables: list[Manifest] = field(default_factory=list)
    patches: list[Manifest] = field(default_factory=list)
    kubelet_args: dict[str, str] = field(default_factory=dict)
    cert_sans: list[str] = field(default_factory=list)


class InfraProvider(Protocol):
    """One infrastructure provider type."""

    kinds: InfraKinds

    @property
    def spec_type(self) -> type[ProviderSpecBase]:
        """The spec class (:data:`fleetc.schema.provider.ProviderSpec`) of the type this provider implements."""
        ...

    def cluster_template_spec(self, provider: ProviderDocument) -> Manifest:
        """``spec.template.spec`` of the infrastructure cluster template."""
        ...

    def machine_template_spec(self, provider: ProviderDocument, machine: MachineRequest) -> Manifest:
        """``spec.template.spec`` of a machine template."""
        ...

    def class_extras(self, provider: ProviderDocument) -> ClassExtras:
        """Variables, patches and kubelet flags every class on this provider gets."""
        ...

    def cluster_variables(self, provider: ProviderDocument, cluster: ClusterDocument) -> list[Manifest]:
        """Values of the provider's variables for one cluster (``[{name, value}]``)."""
        ...


def spec_of(provider: ProviderDocument, spec_type: type[Spec]) -> Spec:
    """The provider's spec as ``spec_type`` (the registry hands a provider only documents of its type)."""
    spec = provider.spec
    if not isinstance(spec, spec_type):
        raise CompileError("Provider", provider.metadata.name, f"is {spec.type}, not {type_name(spec_type)}")
    return spec


def patch_selector(api_version: str, kind: str, match: Manifest) -> Manifest:
    """A ClusterClass patch selector."""
    return {"apiVersion": api_version, "kind": kind, "matchResources": match}


def node_name_patch(patch_name: str, description: str, node_name: str) -> Manifest:
    """A ClusterClass patch naming every Node with a cloud-init template (``nodeRegistration.name``).

    Cloud providers whose cloud-controller-manager expects a particular Node name use it; it relies on
    ``nodeRegistration`` existing, which the provider's kubelet flags guarantee.
    """
    kubeadm, name = "/spec/template/spec/kubeadmConfigSpec", "nodeRegistration/name"
    control_plane = patch_selector(CONTROL_PLANE_API, "KubeadmControlPlaneTemplate", {"controlPlane": True})
    workers = patch_selector(BOOTSTRAP_API, "KubeadmConfigTemplate", {"machineDeploymentClass": {"names": ["*"]}})
    return {
        "name": patch_name,
        "description": description,
        "definitions": [
            {
                "selector": control_plane,
                "jsonPatches": [
                    {"op": "add", "path": f"{kubeadm}/initConfiguration/{name}", "value": node_name},
                    {"op": "add", "path": f"{kubeadm}/joinConfiguration/{name}", "value": node_name},
                ],
            },
            {
                "selector": workers,
                "jsonPatches": [
                    {"op": "add", "path": f"/spec/template/spec/joinConfiguration/{name}", "value": node_name}
                ],
            },
        ],
    }
