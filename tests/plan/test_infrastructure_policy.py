"""A cluster keeps its infrastructure: another provider type or an immutable provider field is a policy error.

CAPI would patch the existing infrastructure cluster into another kind, and the providers' update webhooks
refuse changes to fields they declare immutable (AWS region, Azure location and subscription, GCP project…):
``diff``/``plan`` report those as errors at the cluster's ``spec.provider``, never as "in place".
"""

from __future__ import annotations

import json
from typing import Any

from tests.builders import API
from tests.plan.support import FleetRepo, run

AZURE: dict[str, Any] = {
    "apiVersion": API,
    "kind": "Provider",
    "metadata": {"name": "azure-eu"},
    "spec": {
        "type": "azure",
        "region": "westeurope",
        "credentialsRef": {"kind": "AzureClusterIdentity", "name": "fleet"},
        "sizes": {"medium": "Standard_D4s_v5", "large": "Standard_D8s_v5"},
        "settings": {"subscriptionID": "00000000-0000-0000-0000-000000000000"},
    },
}


def _policy() -> list[dict[str, Any]]:
    result = run("diff", "fleet", "--base", "HEAD", "--format", "json")
    assert result.exit_code == 1, result.output
    policy: list[dict[str, Any]] = json.loads(result.stdout)["policy"]
    return policy


def test_moving_a_cluster_to_another_provider_type_is_a_policy_error(repo: FleetRepo) -> None:
    repo.builder.add("providers.yaml", AZURE)
    repo.commit("azure provider")
    repo.cluster("eu-2")["spec"]["provider"] = "azure-eu"
    repo.write()

    [finding] = _policy()

    assert "cluster eu-2 would move from AWSClusterTemplate to AzureClusterTemplate" in finding["message"]
    assert finding["field"] == "spec.provider"


def test_changing_the_aws_region_of_existing_clusters_is_a_policy_error(repo: FleetRepo) -> None:
    repo.builder.set("Provider", "aws-eu", "spec.region", "eu-central-1")
    repo.builder.set("Provider", "aws-eu", "spec.failureDomains", ["eu-central-1a", "eu-central-1b"])
    repo.write()

    findings = _policy()

    assert {f["message"].split(" of cluster ")[1].split(" ")[0] for f in findings} == {"eu-1", "eu-2", "eu-3"}
    assert all("region" in f["message"] and "'eu-west-1' to 'eu-central-1'" in f["message"] for f in findings)


def test_an_aws_change_the_provider_accepts_is_no_policy_error(repo: FleetRepo) -> None:
    repo.builder.set("Provider", "aws-eu", "spec.sizes.large", "m6i.4xlarge")
    repo.write()

    result = run("diff", "fleet", "--base", "HEAD", "--format", "json")

    assert json.loads(result.stdout)["policy"] == []


def test_a_new_azure_resource_group_is_a_policy_error(repo: FleetRepo) -> None:
    repo.builder.add("providers.yaml", AZURE)
    repo.cluster("eu-2")["spec"]["provider"] = "azure-eu"
    repo.commit("on azure")
    repo.builder.set("Provider", "azure-eu", "spec.settings.resourceGroup", "shared")
    repo.write()

    [finding] = _policy()

    assert "resourceGroup of cluster eu-2 would change from None to 'shared'" in finding["message"]
