"""Names fleetc generates are DNS labels within their limits and unique where CAPI keys on them.

MachineDeployment topology names (``<pool>-<failure domain>``) are derived so that distinct domains never
collide and never exceed 63 characters; what derivation cannot prevent (a pool named like another pool plus
a domain, a pool called ``control-plane``, a cluster name too long for what its provider names after it) is
an error at the spec line.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from fleetc.render.compile import compile_fleet
from tests.builders import API, FleetBuilder, assert_valid, at, only, position

AZURE_CLUSTER_NAME_LIMIT = 44  # CAPZ v1.26 clusterNameMaxLength
_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")

AZURE: dict[str, Any] = {
    "apiVersion": API,
    "kind": "Provider",
    "metadata": {"name": "azure"},
    "spec": {
        "type": "azure",
        "region": "westeurope",
        "credentialsRef": {"kind": "AzureClusterIdentity", "name": "fleet"},
        "sizes": {"medium": "Standard_D4s_v5", "large": "Standard_D8s_v5"},
        "settings": {"subscriptionID": "00000000-0000-0000-0000-000000000000"},
    },
}
GCP: dict[str, Any] = {
    "apiVersion": API,
    "kind": "Provider",
    "metadata": {"name": "gcp"},
    "spec": {
        "type": "gcp",
        "region": "europe-west4",
        "sizes": {"medium": "n2-standard-4", "large": "n2-standard-8"},
        "failureDomains": ["europe-west4-a"],
        "settings": {"project": "acme", "image": "projects/acme/global/images/k8s"},
    },
}


def _deployment_names(fleet: FleetBuilder, cluster: str) -> list[str]:
    result = fleet.validate()
    assert_valid(result)
    assert result.fleet is not None
    rendered = compile_fleet(result.fleet)
    manifest = next(m for m in rendered.manifests() if m["kind"] == "Cluster" and m["metadata"]["name"] == cluster)
    return [md["name"] for md in manifest["spec"]["topology"]["workers"]["machineDeployments"]]


def _spread(fleet: FleetBuilder, domains: list[str], pool: str = "general") -> FleetBuilder:
    fleet.set("Provider", "aws-eu", "spec.failureDomains", domains)
    return fleet.set("ClusterClass", "standard", ["spec", "workers", pool, "spreadAcrossFailureDomains"], True)


def test_failure_domains_differing_only_in_case_or_underscore_get_distinct_names() -> None:
    fleet = FleetBuilder.minimal().set("Provider", "aws-eu", "spec", {"type": "dev-docker"})  # AWS zones are lower-case
    fleet = _spread(fleet, ["Zone_A", "zone-a", "zone_a"])

    names = _deployment_names(fleet, "eu-1")

    assert len(names) == 3
    assert len(set(names)) == 3
    assert all(_LABEL.match(n) and len(n) <= 63 for n in names), names
    assert "general-zone-a" in names  # a domain that is already a label keeps the plain name


def test_a_long_pool_and_domain_give_a_name_within_63_characters() -> None:
    pool = "p" * 60
    fleet = FleetBuilder.minimal()
    fleet.set("ClusterClass", "standard", "spec.workers", {pool: {"size": "large", "replicas": 3}})
    fleet = _spread(fleet, ["eu-west-1a", "eu-west-1b"], pool)

    names = _deployment_names(fleet, "eu-1")

    assert len(set(names)) == 2
    assert all(_LABEL.match(n) and len(n) <= 63 for n in names), names


def test_a_pool_named_like_another_pool_plus_a_domain_is_rejected_at_the_pool() -> None:
    fleet = _spread(FleetBuilder.minimal(), ["a", "b"])
    fleet.set("ClusterClass", "standard", "spec.workers.general-a", {"size": "large", "replicas": 1})

    diagnostic = only(fleet.validate(), field="spec.workers.general-a")

    assert diagnostic.message == (
        "MachineDeployment name 'general-a' is both pool general in failure domain 'a' and pool general-a on "
        "provider aws-eu (CAPI keys a cluster's MachineDeployments by name); rename pool general-a"
    )
    assert at(diagnostic) == ("fleet/classes.yaml", *position(fleet.text("classes.yaml"), "general-a:"))


def test_a_pool_called_control_plane_is_rejected() -> None:
    fleet = FleetBuilder.minimal()
    fleet.set("ClusterClass", "standard", "spec.workers.control-plane", {"size": "large", "replicas": 1})

    diagnostic = only(fleet.validate(), field="spec.workers.control-plane")

    assert "may not be called 'control-plane'" in diagnostic.message
    assert at(diagnostic) == ("fleet/classes.yaml", *position(fleet.text("classes.yaml"), "control-plane:"))


def _on(provider: dict[str, Any], name: str) -> FleetBuilder:
    fleet = FleetBuilder.minimal().add("providers.yaml", provider)
    fleet.set("Cluster", "eu-2", "metadata.name", name)
    return fleet.set("Cluster", name, "spec.provider", provider["metadata"]["name"])


def test_an_azure_cluster_name_must_leave_room_for_capis_suffix() -> None:
    longest = AZURE_CLUSTER_NAME_LIMIT - 6
    assert_valid(_on(AZURE, "a" * longest).validate())

    fleet = _on(AZURE, "a" * (longest + 1))
    diagnostic = only(fleet.validate(), field="metadata.name")

    assert f"at most {longest} fit" in diagnostic.message
    assert "CAPZ limits AzureCluster names to 44 characters" in diagnostic.message
    assert at(diagnostic)[1] == position(fleet.text("clusters.yaml"), "name: " + "a" * (longest + 1))[0]


def test_a_gcp_cluster_name_fits_capgs_instance_group_names() -> None:
    # <cluster>-apiserver-europe-west4-a must fit 63 characters: 63 - 11 - 14 = 38
    assert_valid(_on(GCP, "g" * 38).validate())

    diagnostic = only(_on(GCP, "g" * 39).validate(), field="metadata.name")

    assert "at most 38 fit" in diagnostic.message
    assert "'<cluster>-apiserver-europe-west4-a'" in diagnostic.message


def test_without_zones_a_gcp_name_is_bounded_by_the_firewall_rule() -> None:
    provider = {**GCP, "spec": {**GCP["spec"], "failureDomains": [], "region": "x"}}
    assert_valid(_on(provider, "g" * 44).validate())

    diagnostic = only(_on(provider, "g" * 45).validate(), field="metadata.name")

    assert "'allow-<cluster>-healthchecks'" in diagnostic.message


@pytest.mark.parametrize("name", ["1-store", "9"])
def test_a_gcp_cluster_name_must_start_with_a_letter(name: str) -> None:
    diagnostic = only(_on(GCP, name).validate(), field="metadata.name")

    expected = f"cluster name '{name}' must start with a letter on provider gcp: Compute Engine names do"
    assert diagnostic.message == expected
