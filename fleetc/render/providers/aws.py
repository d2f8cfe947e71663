"""Amazon Web Services through CAPA v2.11 (``AWSClusterTemplate``/``AWSMachineTemplate``, infrastructure v1beta2).

Follows CAPA's ``cluster-template-simple-clusterclass.yaml`` (v2.11.1): an NLB in front of the API servers,
clusterawsadm's IAM instance profiles, the node named after the EC2 private DNS name. Two departures: the
example's values come from ClusterClass variables, while here each class revision is rendered for one
Provider, so region, identity and instance types are written into the templates; and kubelets run with
``cloud-provider: external`` (the in-tree AWS provider is gone since Kubernetes v1.27, so the AWS cloud
controller manager must run in the workload cluster). CAPA's ``v1beta2`` is its own API version; CAPA still
follows the CAPI v1beta1 contract.
"""

from __future__ import annotations

from fleetc.contract.vocabulary import infrastructure_api
from fleetc.core.errors import CompileError
from fleetc.core.keys import Manifest
from fleetc.render.providers.base import ClassExtras, InfraKinds, MachineRequest, node_name_patch, spec_of
from fleetc.schema.cluster import ClusterDocument
from fleetc.schema.provider import AwsSpec, ProviderDocument

API_VERSION = infrastructure_api("v1beta2")
NODE_NAME = "{{ ds.meta_data.local_hostname }}"
"""cloud-init's EC2 private DNS name: the Node name the AWS cloud controller manager expects."""


class Aws:
    """EC2 instances in a CAPA-managed VPC."""

    kinds = InfraKinds(API_VERSION, "AWSClusterTemplate", "AWSMachineTemplate")
    spec_type = AwsSpec

    def cluster_template_spec(self, provider: ProviderDocument) -> Manifest:
        """Region, identity, SSH key and tags; an NLB health-checking the API servers over HTTPS."""
        spec = spec_of(provider, AwsSpec)
        settings = spec.settings
        cluster: Manifest = {
            "region": spec.region,
            "controlPlaneLoadBalancer": {"loadBalancerType": "nlb", "healthCheckProtocol": "HTTPS"},
        }
        if spec.credentials_ref is not None:
            cluster["identityRef"] = {"kind": spec.credentials_ref.kind, "name": spec.credentials_ref.name}
        if settings.ssh_key_name is not None:
            cluster["sshKeyName"] = settings.ssh_key_name
        if settings.additional_tags:
            cluster["additionalTags"] = dict(sorted(settings.additional_tags.items()))
        return cluster

    def machine_template_spec(self, provider: ProviderDocument, machine: MachineRequest) -> Manifest:
        """The instance type of the size, the role's IAM instance profile, SSH key and pinned AMI if any."""
        settings = spec_of(provider, AwsSpec).settings
        if machine.machine_type is None:
            raise CompileError("Provider", provider.metadata.name, f"maps no instance type for this {machine.role}")
        profile = (
            settings.control_plane_iam_instance_profile
            if machine.role == "control-plane"
            else settings.nodes_iam_instance_profile
        )
        instance: Manifest = {"instanceType": machine.machine_type, "iamInstanceProfile": profile}
        if settings.ssh_key_name is not None:
            instance["sshKeyName"] = settings.ssh_key_name
        if settings.ami_id is not None:
            instance["ami"] = {"id": settings.ami_id}
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
