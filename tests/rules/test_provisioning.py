"""Settings that would render yet not provision are errors at the line that sets them.

AWS zones and AMIs, GCP images and scale-from-zero capacity, vSphere zone names, in-memory failure domains,
IPv6 where fleetc emits no IPv6 settings, OpenStack's node subnet, and a health-check count on a split pool; and,
as a warning, a health-check percentage that allows no remediation in a pool's smallest MachineDeployments.
"""

from __future__ import annotations

from typing import Any

import pytest

from fleetc.core.diagnostics import Diagnostic, Severity
from fleetc.schema.provisioning import NO_REMEDIATION
from tests.builders import VSPHERE_DOC, FleetBuilder, assert_valid, at, only, position

GCP_DOC: dict[str, Any] = {
    "apiVersion": "fleetc.io/v1alpha1",
    "kind": "Provider",
    "metadata": {"name": "gcp-eu"},
    "spec": {
        "type": "gcp",
        "region": "europe-west4",
        "sizes": {"medium": "n2-standard-4", "large": "n2-standard-8"},
        "failureDomains": ["europe-west4-a", "europe-west4-b"],
        "settings": {"project": "acme", "image": "projects/acme/global/images/kube-{version}"},
    },
}

OPENSTACK_DOC: dict[str, Any] = {
    "apiVersion": "fleetc.io/v1alpha1",
    "kind": "Provider",
    "metadata": {"name": "os-dc2"},
    "spec": {
        "type": "openstack",
        "credentialsRef": {"kind": "Secret", "name": "cloud-config"},
        "sizes": {"medium": "m1.medium", "large": "m1.large"},
        "settings": {"image": "ubuntu-2404-kube-{version}", "nodeCidr": "10.130.0.0/24"},
    },
}


def _on(fleet: FleetBuilder, document: dict[str, Any]) -> FleetBuilder:
    """The fleet with cluster eu-2 moved to the provider ``document``."""
    fleet.add("more-providers.yaml", document)
    return fleet.set("Cluster", "eu-2", "spec.provider", document["metadata"]["name"])


# --- AWS ----------------------------------------------------------------------------------------------------------


def test_an_aws_failure_domain_outside_the_region_is_an_error_at_the_zone() -> None:
    fleet = FleetBuilder.minimal().set("Provider", "aws-eu", "spec.failureDomains", ["eu-west-1a", "us-east-1b"])

    diagnostic = only(fleet.validate(), field="spec.failureDomains[1]")

    assert "'us-east-1b' is not an availability zone of region eu-west-1" in diagnostic.message
    assert at(diagnostic) == ("fleet/providers.yaml", *position(fleet.text("providers.yaml"), "us-east-1b"))


def test_more_aws_zones_than_the_vpc_has_subnets_for_is_an_error() -> None:
    zones = [f"eu-west-1{letter}" for letter in "abcdefghi"]
    fleet = FleetBuilder.minimal().set("Provider", "aws-eu", "spec.failureDomains", zones)

    assert "which fit 8 zones" in only(fleet.validate(), field="spec.failureDomains").message


def test_one_ami_for_a_catalogue_of_several_versions_is_an_error() -> None:
    fleet = FleetBuilder.minimal().set("Provider", "aws-eu", "spec.settings", {"amiID": "ami-0123456789abcdef0"})

    diagnostic = only(fleet.validate(), field="spec.settings.amiID")

    assert "cannot boot the 3 Kubernetes versions" in diagnostic.message
    assert at(diagnostic) == ("fleet/providers.yaml", *position(fleet.text("providers.yaml"), "ami-", value=False))


def test_one_ami_is_fine_for_a_single_version_catalogue() -> None:
    fleet = FleetBuilder.minimal().set("Provider", "aws-eu", "spec.settings", {"amiID": "ami-0123456789abcdef0"})
    fleet.set("Fleet", None, "spec.versions", {"catalogue": ["v1.34.2"], "channels": {"stable": "v1.34.2"}})

    assert_valid(fleet.validate())


# --- GCP ----------------------------------------------------------------------------------------------------------


def test_a_gcp_provider_without_an_image_is_an_error() -> None:
    fleet = _on(FleetBuilder.minimal(), GCP_DOC)
    fleet.set("Provider", "gcp-eu", "spec.settings", {"project": "acme"})

    diagnostic = only(fleet.validate(), field="spec.settings")

    assert "capi-ubuntu-1804-k8s-v1-NN of project acme" in diagnostic.message
    assert diagnostic.location.path == "fleet/more-providers.yaml"


def test_a_gcp_pool_that_may_scale_from_zero_needs_its_machine_capacity() -> None:
    fleet = _on(FleetBuilder.minimal(), GCP_DOC)
    fleet.set(
        "ClusterClass", "standard", "spec.workers.general", {"size": "large", "autoscaling": {"min": 1, "max": 4}}
    )
    fleet.set("ClusterClass", "standard", "spec.workers.general.spreadAcrossFailureDomains", True)

    diagnostic = only(fleet.validate(), field="spec.settings.machineCapacities")

    assert "may scale from zero on n2-standard-8" in diagnostic.message  # min 1 over two zones: one share is 0
    fleet.set(
        "Provider", "gcp-eu", "spec.settings.machineCapacities", {"n2-standard-8": {"cpu": 8, "memoryMiB": 32768}}
    )
    assert_valid(fleet.validate())


def test_a_gcp_pool_that_never_reaches_zero_needs_no_capacity() -> None:
    fleet = _on(FleetBuilder.minimal(), GCP_DOC)
    fleet.set(
        "ClusterClass", "standard", "spec.workers.general", {"size": "large", "autoscaling": {"min": 2, "max": 4}}
    )

    assert_valid(fleet.validate())


# --- vSphere and the in-memory provider ---------------------------------------------------------------------------


def test_a_vsphere_failure_domain_must_be_a_label_value() -> None:
    fleet = _on(FleetBuilder.minimal(), VSPHERE_DOC)
    fleet.set("Cluster", "eu-2", "spec.controlPlaneEndpoint", {"host": "10.0.0.10"})
    fleet.set("Provider", "vsphere-dc1", "spec.failureDomains", ["zone-a", "Zone A"])

    assert "'Zone A' must be a label value" in only(fleet.validate(), field="spec.failureDomains[1]").message


def test_in_memory_failure_domains_are_an_error() -> None:
    fleet = FleetBuilder.minimal().set("Provider", "local", "spec.failureDomains", ["a", "b"])

    assert "cannot declare failure domains" in only(fleet.validate(), field="spec.failureDomains").message


# --- IP families and subnets --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pods", "services"),
    [
        pytest.param(["fd00:10::/56"], ["fd00:20::/108"], id="ipv6"),
        pytest.param(["192.168.0.0/16", "fd00:10::/56"], ["10.128.0.0/12", "fd00:20::/108"], id="dual-stack"),
    ],
)
def test_ipv6_ranges_on_a_cloud_provider_are_an_error_at_the_cluster(pods: list[str], services: list[str]) -> None:
    fleet = FleetBuilder.minimal().set("Cluster", "eu-2", "spec.network", {"pods": pods, "services": services})

    diagnostic = only(fleet.validate(), fragment="fleetc cannot emit aws's IPv6 network settings")

    assert diagnostic.field == "spec.network"
    assert diagnostic.location.path == "fleet/clusters.yaml"


def test_ipv6_ranges_are_accepted_on_the_dev_providers() -> None:
    fleet = FleetBuilder.minimal().set("Cluster", "eu-2", "spec.provider", "local")
    fleet.set("Cluster", "eu-2", "spec.network", {"pods": ["fd00:10::/56"], "services": ["fd00:20::/108"]})

    assert_valid(fleet.validate())


def test_an_ipv6_endpoint_on_an_ipv4_cluster_is_an_error() -> None:
    fleet = _on(FleetBuilder.minimal(), VSPHERE_DOC)
    fleet.set("Cluster", "eu-2", "spec.controlPlaneEndpoint", {"host": "fd00::10"})

    diagnostic = only(fleet.validate(), field="spec.controlPlaneEndpoint.host")

    assert "IPv6 endpoint fd00::10 on an IPv4 cluster" in diagnostic.message
    assert at(diagnostic) == ("fleet/clusters.yaml", *position(fleet.text("clusters.yaml"), "fd00::10"))


def test_an_openstack_node_subnet_overlapping_the_services_is_an_error() -> None:
    fleet = _on(FleetBuilder.minimal(), OPENSTACK_DOC)  # nodeCidr 10.130.0.0/24 is inside services 10.128.0.0/12

    diagnostic = only(fleet.validate(), fragment="node subnet")

    assert "10.130.0.0/24 overlaps the cluster's range 10.128.0.0/12" in diagnostic.message
    assert diagnostic.field == "spec.provider"
    fleet.set("Provider", "os-dc2", "spec.settings.nodeCidr", "10.6.0.0/24")
    assert_valid(fleet.validate())


# --- health checks ------------------------------------------------------------------------------------------------


def test_a_count_of_unhealthy_machines_on_a_split_pool_is_an_error_at_the_count() -> None:
    fleet = FleetBuilder.minimal().set("ClusterClass", "standard", "spec.healthCheck", {"maxUnhealthy": 2})
    fleet.set("ClusterClass", "standard", "spec.workers.general.spreadAcrossFailureDomains", True)

    diagnostic = only(fleet.validate(), field="spec.healthCheck.maxUnhealthy")

    assert "pool general is split over 2 failure domains" in diagnostic.message
    assert at(diagnostic) == (
        "fleet/classes.yaml",
        *position(fleet.text("classes.yaml"), "maxUnhealthy: 2", value=True),
    )


def test_a_percentage_of_unhealthy_machines_on_a_split_pool_is_fine() -> None:
    fleet = FleetBuilder.minimal().set("ClusterClass", "standard", "spec.healthCheck", {"maxUnhealthy": "40%"})
    fleet.set("ClusterClass", "standard", "spec.workers.general.spreadAcrossFailureDomains", True)

    assert_valid(fleet.validate())


def _no_remediation(fleet: FleetBuilder) -> list[Diagnostic]:
    return [d for d in fleet.validate().diagnostics if d.code == NO_REMEDIATION]


def test_a_percentage_that_rounds_down_to_no_machine_of_a_split_pool_is_a_warning_at_the_percentage() -> None:
    fleet = FleetBuilder.minimal().set("ClusterClass", "standard", "spec.healthCheck", {"maxUnhealthy": "40%"})
    fleet.set("ClusterClass", "standard", "spec.workers.general.spreadAcrossFailureDomains", True)

    result = fleet.validate()  # 3 workers over 2 zones: MachineDeployments of 2 and 1; 40% of 1 is 0
    [warning] = [d for d in result.diagnostics if d.code == NO_REMEDIATION]

    assert result.ok and warning.severity is Severity.WARNING
    assert warning.field == "spec.healthCheck.maxUnhealthy"
    assert at(warning) == ("fleet/classes.yaml", *position(fleet.text("classes.yaml"), "maxUnhealthy: 40%", value=True))
    assert "maxUnhealthy 40% allows no remediation in pool general's smallest MachineDeployments" in warning.message
    assert "at the pool's minimum: eu-1 1, eu-2 1)" in warning.message
    assert warning.message.endswith("give pool general its own healthCheck with maxUnhealthy of at least 100%")


def test_a_pool_s_own_percentage_is_warned_at_the_pool_with_the_share_that_would_do() -> None:
    fleet = FleetBuilder.minimal().set(
        "ClusterClass", "standard", "spec.workers.general", {"size": "large", "autoscaling": {"min": 4, "max": 12},
        "spreadAcrossFailureDomains": True, "healthCheck": {"maxUnhealthy": "25%"}},
    )  # fmt: skip

    [warning] = _no_remediation(fleet)  # at its minimum, 2 workers per zone: 25% of 2 is 0

    assert warning.field == "spec.workers.general.healthCheck.maxUnhealthy"
    assert "eu-1 2, eu-2 2" in warning.message and warning.message.endswith("raise it to at least 50%")
    fleet.set("ClusterClass", "standard", "spec.workers.general.healthCheck", {"maxUnhealthy": "50%"})
    assert _no_remediation(fleet) == []


@pytest.mark.parametrize(
    ("pool", "limit"),
    [
        ({"size": "large", "replicas": 3}, "40%"),  # one MachineDeployment of 3: 40% is 1
        ({"size": "large", "replicas": 4, "spreadAcrossFailureDomains": True}, "50%"),  # 2 per zone: 50% is 1
        ({"size": "large", "autoscaling": {"min": 6, "max": 9}, "spreadAcrossFailureDomains": True}, "40%"),
        ({"size": "large", "replicas": 1, "spreadAcrossFailureDomains": True}, "100%"),
        ({"size": "large", "replicas": 2, "spreadAcrossFailureDomains": True}, 1),  # a count is the other rule's
    ],
)
def test_a_share_that_allows_a_remediation_in_every_machine_deployment_is_not_warned(
    pool: dict[str, Any], limit: int | str
) -> None:
    fleet = FleetBuilder.minimal().set("ClusterClass", "standard", "spec.workers.general", pool)
    fleet.set("ClusterClass", "standard", "spec.healthCheck", {"maxUnhealthy": limit})

    assert _no_remediation(fleet) == []
