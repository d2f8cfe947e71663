"""OpenStack through CAPO v0.14 (``OpenStackClusterTemplate``/``OpenStackMachineTemplate``, infrastructure v1beta1).

Follows CAPO's ``clusterclass-dev-test.yaml`` (v0.14.7): credentials from a clouds.yaml Secret (``identityRef``
with the cloud's name), an Octavia load balancer in front of the API servers, one managed subnet per cluster,
kubelets with ``cloud-provider: external`` and ``provider-id`` set from the instance's metadata, Nodes named
after the instance. The image is looked up by name; with ``{version}`` in the name each machine boots the
image of its own Kubernetes version, as the example's ``imageName``/``addImageVersion`` patch does. The
example's Calico-specific security group rules are replaced by ``allowAllInClusterTraffic``, which works with
any CNI. The region is the one of the cloud's clouds.yaml entry: setting ``identityRef.region`` would change
the machines' provider IDs away from the ``openstack:///<id>`` the kubelets register with.
"""

from __future__ import annotations

import json

from fleetc.contract.vocabulary import infrastructure_api
from fleetc.core.errors import CompileError
from fleetc.core.keys import Manifest
from fleetc.render.providers.base import ClassExtras, InfraKinds, MachineRequest, node_name_patch, spec_of
from fleetc.schema.cluster import ClusterDocument
from fleetc.schema.provider import OpenStackSpec, ProviderDocument

API_VERSION = infrastructure_api("v1beta1")
VERSION_PLACEHOLDER = "{version}"
NODE_NAME = "{{ v1.local_hostname }}"
KUBELET_ARGS = {"cloud-provider": "external", "provider-id": "openstack:///{{ v1.instance_id }}"}
IDENTITY_TYPES = {"Secret": "Secret", "OpenStackClusterIdentity": "ClusterIdentity"}


class OpenStack:
    """Nova servers on a CAPO-managed network."""

    kinds = InfraKinds(API_VERSION, "OpenStackClusterTemplate", "OpenStackMachineTemplate")
    spec_type = OpenStackSpec

    def cluster_template_spec(self, provider: ProviderDocument) -> Manifest:
        """Identity, API load balancer, external network, the cluster's subnet and security groups."""
        spec = spec_of(provider, OpenStackSpec)
        settings, ref = spec.settings, spec.credentials_ref
        subnet: Manifest = {"cidr": settings.node_cidr}
        if settings.dns_nameservers:
            subnet["dnsNameservers"] = list(settings.dns_nameservers)
        cluster: Manifest = {
            "identityRef": {"type": IDENTITY_TYPES[ref.kind], "name": ref.name, "cloudName": settings.cloud_name},
            "apiServerLoadBalancer": {"enabled": True},
            "managedSubnets": [subnet],
            "managedSecurityGroups": {"allowAllInClusterTraffic": True},
        }
        if settings.external_network_id is not None:
            cluster["externalNetwork"] = {"id": settings.external_network_id}
        if spec.failure_domains:
            cluster["controlPlaneAvailabilityZones"] = list(spec.failure_domains)
        return cluster

    def machine_template_spec(self, provider: ProviderDocument, machine: MachineRequest) -> Manifest:
        """The flavor of the machine's size, the image by name, the SSH key pair."""
        settings = spec_of(provider, OpenStackSpec).settings
        if machine.machine_type is None:
            raise CompileError("Provider", provider.metadata.name, f"maps no flavor for this {machine.role}")
        server: Manifest = {"flavor": machine.machine_type, "image": {"filter": {"name": settings.image}}}
        if settings.ssh_key_name is not None:
            server["sshKeyName"] = settings.ssh_key_name
        return server

    def class_extras(self, provider: ProviderDocument) -> ClassExtras:
        """External cloud provider with the instance's provider ID, Node names, versioned images."""
        settings = spec_of(provider, OpenStackSpec).settings
        patches = [
            node_name_patch("openstackNodeName", "Name each Node after its server, as CAPO's templates do.", NODE_NAME)
        ]
        if VERSION_PLACEHOLDER in settings.image:
            patches.append(_image_version_patch(settings.image))
        return ClassExtras(kubelet_args=dict(KUBELET_ARGS), patches=patches)

    def cluster_variables(self, provider: ProviderDocument, cluster: ClusterDocument) -> list[Manifest]:
        """No per-cluster values."""
        return []


def _selector(api_version: str, kind: str, match: Manifest) -> Manifest:
    return {"apiVersion": api_version, "kind": kind, "matchResources": match}


def _image_version_patch(image: str) -> Manifest:
    """Boot each machine from the image of its own Kubernetes version (``{version}`` in the image name)."""

    def boot_from(version: str) -> Manifest:
        name = json.dumps(image).replace(VERSION_PLACEHOLDER, f"{{{{ .{version} }}}}")
        return {"op": "replace", "path": "/spec/template/spec/image/filter/name", "valueFrom": {"template": name}}

    control_plane = _selector(API_VERSION, "OpenStackMachineTemplate", {"controlPlane": True})
    workers = _selector(API_VERSION, "OpenStackMachineTemplate", {"machineDeploymentClass": {"names": ["*"]}})
    return {
        "name": "openstackImageVersion",
        "description": "The image built for the machine's Kubernetes version.",
        "definitions": [
            {"selector": control_plane, "jsonPatches": [boot_from("builtin.controlPlane.version")]},
            {"selector": workers, "jsonPatches": [boot_from("builtin.machineDeployment.version")]},
        ],
    }


PROVIDER = OpenStack()
