"""Google Cloud through CAPG v1.12 (``GCPClusterTemplate``/``GCPMachineTemplate``, infrastructure v1beta1).

Follows CAPG's ``cluster-template-clusterclass.yaml`` (v1.12.0): project, region and network on the cluster,
the machine type on each machine template, Nodes named after the instance's short host name. Two departures:
values are written into the templates (each class revision is rendered for one Provider) rather than taken
from ClusterClass variables; and kubelets use ``cloud-provider: external`` instead of the example's ``gce``,
since the in-tree GCE provider is gone from the Kubernetes versions fleetc deploys (v1.31 removed the last
in-tree cloud providers), so the GCP cloud controller manager must run in the workload cluster.

``settings.image`` is required (validation): without one, CAPG boots the image family
``projects/<project>/global/images/family/capi-ubuntu-1804-k8s-v1-NN`` of the cluster's own project, which exists
only if the team built it there. With ``{version}`` in it, each machine boots the image of its own Kubernetes
version, written with dashes (``v1.35.0`` → ``v1-35-0``: Compute Engine names allow no dots), through a
ClusterClass patch as for OpenStack and vSphere.
"""

from __future__ import annotations

import json

from fleetc.contract.vocabulary import infrastructure_api
from fleetc.core.errors import CompileError
from fleetc.core.keys import Manifest
from fleetc.render.providers.base import ClassExtras, InfraKinds, MachineRequest, node_name_patch, spec_of
from fleetc.schema.cluster import ClusterDocument
from fleetc.schema.provider import GcpSpec, ProviderDocument

API_VERSION = infrastructure_api("v1beta1")
NODE_NAME = '{{ ds.meta_data.local_hostname.split(".")[0] }}'
VERSION_PLACEHOLDER = "{version}"


class Gcp:
    """Compute Engine instances in a CAPG-managed network."""

    kinds = InfraKinds(API_VERSION, "GCPClusterTemplate", "GCPMachineTemplate")
    spec_type = GcpSpec

    def cluster_template_spec(self, provider: ProviderDocument) -> Manifest:
        """Project, region, network, zones if listed, and the credentials Secret if it names its namespace."""
        spec = spec_of(provider, GcpSpec)
        cluster: Manifest = {
            "project": spec.settings.project,
            "region": spec.region,
            "network": {"name": spec.settings.network},
        }
        if spec.failure_domains:
            cluster["failureDomains"] = list(spec.failure_domains)
        ref = spec.credentials_ref
        if ref is not None and ref.namespace is not None:
            cluster["credentialsRef"] = {"name": ref.name, "namespace": ref.namespace}
        return cluster

    def machine_template_spec(self, provider: ProviderDocument, machine: MachineRequest) -> Manifest:
        """The machine type of the size, and the pinned image if any."""
        settings = spec_of(provider, GcpSpec).settings
        if machine.machine_type is None:
            raise CompileError("Provider", provider.metadata.name, f"maps no machine type for this {machine.role}")
        instance: Manifest = {"instanceType": machine.machine_type}
        if settings.image is not None:
            instance["image"] = settings.image
        return instance

    def class_extras(self, provider: ProviderDocument) -> ClassExtras:
        """External cloud provider, Node names; a credentials Secret in each cluster's own namespace."""
        spec = spec_of(provider, GcpSpec)
        patches = [
            node_name_patch(
                "gcpNodeName", "Name each Node after its instance's short host name, as CAPG's templates do.", NODE_NAME
            )
        ]
        if spec.credentials_ref is not None and spec.credentials_ref.namespace is None:
            patches.append(_credentials_patch(spec.credentials_ref.name))
        if spec.settings.image is not None and VERSION_PLACEHOLDER in spec.settings.image:
            patches.append(_image_version_patch(spec.settings.image))
        return ClassExtras(kubelet_args={"cloud-provider": "external"}, patches=patches)

    def cluster_variables(self, provider: ProviderDocument, cluster: ClusterDocument) -> list[Manifest]:
        """No per-cluster values."""
        return []


def _selector(api_version: str, kind: str, match: Manifest) -> Manifest:
    return {"apiVersion": api_version, "kind": kind, "matchResources": match}


def _credentials_patch(secret: str) -> Manifest:
    """``credentialsRef`` to the Secret in the cluster's namespace (CAPG requires an explicit namespace)."""
    template = f"name: {secret}\nnamespace: {{{{ .builtin.cluster.namespace }}}}\n"
    return {
        "name": "gcpCredentials",
        "description": "Read the GCP credentials from the Secret in the cluster's own namespace.",
        "definitions": [
            {
                "selector": _selector(API_VERSION, "GCPClusterTemplate", {"infrastructureCluster": True}),
                "jsonPatches": [
                    {"op": "add", "path": "/spec/template/spec/credentialsRef", "valueFrom": {"template": template}}
                ],
            }
        ],
    }


def _image_version_patch(image: str) -> Manifest:
    """Boot each machine from the image of its own Kubernetes version, dots turned into dashes."""

    def boot_from(version: str) -> Manifest:
        dashed = f'{{{{ .{version} | replace "." "-" }}}}'
        return {
            "op": "replace",
            "path": "/spec/template/spec/image",
            "valueFrom": {"template": json.dumps(image).replace(VERSION_PLACEHOLDER, dashed)},
        }

    control_plane = _selector(API_VERSION, "GCPMachineTemplate", {"controlPlane": True})
    workers = _selector(API_VERSION, "GCPMachineTemplate", {"machineDeploymentClass": {"names": ["*"]}})
    return {
        "name": "gcpImageVersion",
        "description": "The image built for the machine's Kubernetes version.",
        "definitions": [
            {"selector": control_plane, "jsonPatches": [boot_from("builtin.controlPlane.version")]},
            {"selector": workers, "jsonPatches": [boot_from("builtin.machineDeployment.version")]},
        ],
    }


PROVIDER = Gcp()
