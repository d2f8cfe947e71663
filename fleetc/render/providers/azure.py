"""Microsoft Azure through CAPZ v1.26 (``AzureClusterTemplate``/``AzureMachineTemplate``, infrastructure v1beta1).

Follows CAPZ's ``cluster-template-clusterclass.yaml`` (v1.26.0): an AzureClusterIdentity, a control-plane
subnet and a node subnet behind a NAT gateway, Linux OS disks, kubelets with ``cloud-provider: external``,
and each machine's ``/etc/kubernetes/azure.json`` (for the Azure cloud controller manager and the kubelet's
credential provider) read from the Secret CAPZ writes for its machine template, through the same two
patches. Left out: the example's separate etcd data disk (it needs kubeadm disk and mount settings the
class owns) and its ``cluster-name`` controller-manager flag (only the in-tree provider read it). Images
are CAPZ's default: its published image for each Kubernetes version.
"""

from __future__ import annotations

import json

from fleetc.contract.vocabulary import BOOTSTRAP_API as BOOTSTRAP
from fleetc.contract.vocabulary import CONTROL_PLANE_API as CONTROL_PLANE
from fleetc.contract.vocabulary import infrastructure_api
from fleetc.core.errors import CompileError
from fleetc.core.keys import Manifest
from fleetc.render.providers.base import ClassExtras, InfraKinds, MachineRequest, node_name_patch, spec_of
from fleetc.schema.cluster import ClusterDocument
from fleetc.schema.provider import AzureSpec, ProviderDocument

API_VERSION = infrastructure_api("v1beta1")
NODE_NAME = '{{ ds.meta_data["local_hostname"] }}'
OS_DISK_GB = 128
_AZURE_JSON = """- contentFrom:
    secret:
      key: {key}
      name: "{{{{ {template_name} }}}}-azure-json"
  owner: root:root
  path: /etc/kubernetes/azure.json
  permissions: "0644"
"""
"""The azure.json file entry; CAPZ names the Secret after the machine's AzureMachineTemplate."""
SUBNETS = "/spec/template/spec/networkSpec/subnets"
_NAT_GATEWAY = "{{ .builtin.cluster.name }}-node-natgw"


class Azure:
    """Azure VMs in a CAPZ-managed virtual network."""

    kinds = InfraKinds(API_VERSION, "AzureClusterTemplate", "AzureMachineTemplate")
    spec_type = AzureSpec

    def cluster_template_spec(self, provider: ProviderDocument) -> Manifest:
        """Location, subscription, identity, CAPZ's example subnets, and the zones to use if listed."""
        spec = spec_of(provider, AzureSpec)
        identity: Manifest = {"apiVersion": API_VERSION, "kind": spec.credentials_ref.kind}
        identity["name"] = spec.credentials_ref.name
        if spec.credentials_ref.namespace is not None:
            identity["namespace"] = spec.credentials_ref.namespace
        cluster: Manifest = {
            "location": spec.region,
            "subscriptionID": spec.settings.subscription_id,
            "identityRef": identity,
            "networkSpec": {"subnets": _subnets("node-natgw")},
        }
        if spec.failure_domains:
            cluster["failureDomains"] = {zone: {"controlPlane": True} for zone in spec.failure_domains}
        return cluster

    def machine_template_spec(self, provider: ProviderDocument, machine: MachineRequest) -> Manifest:
        """The VM size of the machine's size, on a Linux OS disk."""
        spec_of(provider, AzureSpec)
        if machine.machine_type is None:
            raise CompileError("Provider", provider.metadata.name, f"maps no VM size for this {machine.role}")
        return {"vmSize": machine.machine_type, "osDisk": {"osType": "Linux", "diskSizeGB": OS_DISK_GB}}

    def class_extras(self, provider: ProviderDocument) -> ClassExtras:
        """External cloud provider, Nodes named after the VM, azure.json on every machine, the resource group."""
        spec = spec_of(provider, AzureSpec)
        patches = [
            node_name_patch("azureNodeName", "Name each Node after its VM, as CAPZ's templates do.", NODE_NAME),
            _azure_json_patch(),
            _nat_gateway_patch(),
        ]
        if spec.settings.resource_group is not None:
            patches.append(_resource_group_patch(spec.settings.resource_group))
        return ClassExtras(kubelet_args={"cloud-provider": "external"}, patches=patches)

    def cluster_variables(self, provider: ProviderDocument, cluster: ClusterDocument) -> list[Manifest]:
        """No per-cluster values."""
        return []


def _control_plane(json_patches: list[Manifest]) -> Manifest:
    selector = {"apiVersion": CONTROL_PLANE, "kind": "KubeadmControlPlaneTemplate"}
    return {"selector": {**selector, "matchResources": {"controlPlane": True}}, "jsonPatches": json_patches}


def _workers(json_patches: list[Manifest]) -> Manifest:
    selector = {"apiVersion": BOOTSTRAP, "kind": "KubeadmConfigTemplate"}
    match = {"machineDeploymentClass": {"names": ["*"]}}
    return {"selector": {**selector, "matchResources": match}, "jsonPatches": json_patches}


def _azure_json_patch() -> Manifest:
    """azure.json from the Secret CAPZ creates for each AzureMachineTemplate (CAPZ's ClusterClass patches)."""
    control_plane = _AZURE_JSON.format(
        key="control-plane-azure.json", template_name=".builtin.controlPlane.machineTemplate.infrastructureRef.name"
    )
    worker = _AZURE_JSON.format(
        key="worker-node-azure.json", template_name=".builtin.machineDeployment.infrastructureRef.name"
    )
    return {
        "name": "azureJson",
        "description": "Mount the cloud provider configuration CAPZ generates at /etc/kubernetes/azure.json.",
        "definitions": [
            _control_plane(
                [
                    {
                        "op": "add",
                        "path": "/spec/template/spec/kubeadmConfigSpec/files",
                        "valueFrom": {"template": control_plane},
                    }
                ]
            ),
            _workers([{"op": "add", "path": "/spec/template/spec/files", "valueFrom": {"template": worker}}]),
        ],
    }


def _subnets(nat_gateway: str) -> list[Manifest]:
    """CAPZ's example subnets: one for the control plane, one for the nodes behind a NAT gateway."""
    return [
        {"name": "control-plane-subnet", "role": "control-plane"},
        {"name": "node-subnet", "role": "node", "natGateway": {"name": nat_gateway}},
    ]


def _nat_gateway_patch() -> Manifest:
    """The node subnet's NAT gateway named after the cluster (a list index may not be patched: the subnets whole)."""
    subnets = json.dumps(_subnets(_NAT_GATEWAY))
    return {
        "name": "azureNatGateway",
        "description": "Name each cluster's node NAT gateway after the cluster.",
        "definitions": [
            {
                "selector": {
                    "apiVersion": API_VERSION,
                    "kind": "AzureClusterTemplate",
                    "matchResources": {"infrastructureCluster": True},
                },
                "jsonPatches": [{"op": "replace", "path": SUBNETS, "valueFrom": {"template": subnets}}],
            }
        ],
    }


def _resource_group_patch(resource_group: str) -> Manifest:
    """``AzureCluster.spec.resourceGroup`` (the template kind has no such field, so it is set by a patch)."""
    return {
        "name": "azureResourceGroup",
        "description": "Put every cluster's resources in the provider's resource group.",
        "definitions": [
            {
                "selector": {
                    "apiVersion": API_VERSION,
                    "kind": "AzureClusterTemplate",
                    "matchResources": {"infrastructureCluster": True},
                },
                "jsonPatches": [{"op": "add", "path": "/spec/template/spec/resourceGroup", "value": resource_group}],
            }
        ],
    }


PROVIDER = Azure()
