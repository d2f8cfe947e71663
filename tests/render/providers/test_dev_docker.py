"""CAPD's Docker backend: what its webhooks require of the DevClusterTemplate fleetc renders."""

from __future__ import annotations

from fleetc.render.compile import compile_fleet
from tests.builders import FleetBuilder, cluster_doc


def test_failure_domains_are_rendered_sorted_by_name_as_capds_webhook_requires() -> None:
    docker = {"apiVersion": "fleetc.io/v1alpha1", "kind": "Provider", "metadata": {"name": "docker"},
              "spec": {"type": "dev-docker", "failureDomains": ["zone-b", "zone-a", "Zone-c"]}}  # fmt: skip
    fleet = FleetBuilder.minimal().add("providers.yaml", docker)
    fleet.files["clusters.yaml"] = [cluster_doc("c1", ring="canary", provider="docker")]
    result = fleet.validate()
    assert result.ok and result.fleet is not None, result.diagnostics

    (template,) = [m for m in compile_fleet(result.fleet).manifests() if m["kind"] == "DevClusterTemplate"]

    domains = template["spec"]["template"]["spec"]["backend"]["docker"]["failureDomains"]
    assert [d["name"] for d in domains] == ["Zone-c", "zone-a", "zone-b"]
