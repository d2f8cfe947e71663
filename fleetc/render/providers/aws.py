"""Amazon Web Services through CAPA v2.11 (``AWSClusterTemplate``/``AWSMachineTemplate``, infrastructure v1beta2).

Follows CAPA's ``cluster-template-simple-clusterclass.yaml`` (v2.11.1): an NLB in front of the API servers,
clusterawsadm's IAM instance profiles, the node named after the EC2 private DNS name. Listed failure domains
become the availability zones of the managed VPC: one public and one private subnet per zone (CAPA creates
them; ids that do not start with ``subnet-`` are its placeholders), so that machines pinned to a zone find a
subnet there. Without an SSH key, ``sshKeyName`` is ``""`` (CAPA reads an absent one as the key pair
``default``). Two departures: the
example's values come from ClusterClass variables, while here each class revision is rendered for one
Provider, so region, identity and instance types are written into the templates; and kubelets run with
``cloud-provider: external`` (the in-tree AWS provider is gone since Kubernetes v1.27, so the AWS cloud
controller manager must run in the workload cluster). CAPA's ``v1beta2`` is its own API version; CAPA still
follows the CAPI v1beta1 contract.
"""

from __future__ import annotations

import ipaddress

from fleetc.contract.vocabulary import infrastructure_api
from fleetc.core.errors import CompileError
from fleetc.core.keys import Manifest
from fleetc.render.providers.base import ClassExtras, InfraKinds, MachineRequest, node_name_patch, spec_of
from fleetc.schema.cluster import ClusterDocument
from fleetc.schema.provider import AwsSpec, ProviderDocument

API_VERSION = infrastructure_api("v1beta2")
NODE_NAME = "{{ ds.meta_data.local_hostname }}"
"""cloud-init's EC2 private DNS name: the Node name the AWS cloud controller manager expects."""
VPC_CIDR = "10.0.0.0/16"
"""CAPA's default managed-VPC range, written out because fleetc carves the zones' subnets from it."""
SUBNET_PREFIX = 20
"""A public and a private /20 per zone: :data:`~fleetc.schema.provisioning.AWS_MAX_ZONES` zones fill the /16."""


def zone_subnets(zones: list[str]) -> list[Manifest]:
    """A public and a private subnet in each zone, carved from :data:`VPC_CIDR` in the order listed."""
    blocks = list(ipaddress.ip_network(VPC_CIDR).subnets(new_prefix=SUBNET_PREFIX))
    subnets: list[Manifest] = []
    for index, zone in enumerate(zones):
        for offset, public in ((0, True), (1, False)):
            subnets.append(
                {
                    "id": f"fleetc-{'public' if public else 'private'}-{zone}",
                    "availabilityZone": zone,
                    "cidrBlock": str(blocks[2 * index + offset]),
                    "isPublic": public,
                }
            )
    return subnets


class Aws:
    """EC2 instances in a CAPA-managed VPC."""

    kinds = InfraKinds(API_VERSION, "AWSClusterTemplate", "AWSMachineTemplate")
    spec_type = AwsSpec

    def cluster_template_spec(self, provider: ProviderDocument) -> Manifest:
        """Region, identity, SSH key, tags, the zones' subnets; an NLB health-checking the API servers over HTTPS."""
        spec = spec_of(provider, AwsSpec)
        settings = spec.settings
        cluster: Manifest = {
            "region": spec.region,
            "controlPlaneLoadBalancer": {"loadBalancerType": "nlb", "healthCheckProtocol": "HTTPS"},
            "sshKeyName": settings.ssh_key_name or "",
        }
        if spec.credentials_ref is not None:
            cluster["identityRef"] = {"kind": spec.credentials_ref.kind, "name": spec.credentials_ref.name}
        if spec.failure_domains:
            cluster["network"] = {"vpc": {"cidrBlock": VPC_CIDR}, "subnets": zone_subnets(list(spec.failure_domains))}
        if settings.additional_tags:
            cluster["additionalTags"] = dict(sorted(settings.additional_tags.items()))
        return cluster

    def machine_template_spec(self, provider: ProviderDocument, machine: MachineRequest) -> Manifest:
        """The instance type of the size, the role's IAM instance profile, SSH key, and the AMI or its lookup."""
        settings = spec_of(provider, AwsSpec).settings
        if machine.machine_type is None:
            raise CompileError("Provider", provider.metadata.name, f"maps no instance type for this {machine.role}")
        profile = (
            settings.control_plane_iam_instance_profile
            if machine.role == "control-plane"
            else settings.nodes_iam_instance_profile
        )
        instance: Manifest = {
            "instanceType": machine.machine_type,
            "iamInstanceProfile": profile,
            "sshKeyName": settings.ssh_key_name or "",
        }
        if settings.ami_id is not None:
            instance["ami"] = {"id": settings.ami_id}
        lookup = {
            "imageLookupFormat": settings.image_lookup_format,
            "imageLookupOrg": settings.image_lookup_org,
            "imageLookupBaseOS": settings.image_lookup_base_os,
        }
        instance.update({key: value for key, value in lookup.items() if value is not None})
        return instance

    def class_extras(self, provider: ProviderDocument) -> ClassExtras:
        """External cloud provider on every kubelet; Nodes named after the EC2 private DNS name."""
        spec_of(provider, AwsSpec)
        return ClassExtras(
            kubelet_args={"cloud-provider": "external"},
            patches=[
                node_name_patch(
                    "awsNodeName",
                    "Name each Node after its EC2 private DNS name, as the AWS cloud provider requires.",
                    NODE_NAME,
                )
            ],
        )

    def cluster_variables(self, provider: ProviderDocument, cluster: ClusterDocument) -> list[Manifest]:
        """No per-cluster values."""
        return []


PROVIDER = Aws()
