"""``fleetc install --print``: the RBAC is exactly what the controller's code paths use, the CRDs are structural
and carry what kubectl shows, and the Deployment runs ``fleetc controller run`` with the image asked for."""

from __future__ import annotations

import yaml
from click.testing import CliRunner

from fleetc.cli.main import cli
from fleetc.contract.vocabulary import WORKLOAD_KINDS
from fleetc.engine.install import applied_kinds, controller_rules, lease_rules, plural
from fleetc.rollout.crds import crds


def verbs_of(group: str, resource: str) -> set[str]:
    return {v for rule in controller_rules() if group in rule["apiGroups"] and resource in rule["resources"]
            for v in rule["verbs"]}  # fmt: skip


def test_the_cluster_role_grants_nothing_the_controller_does_not_use() -> None:
    rules = controller_rules()
    everything = {(g, r) for rule in rules for g in rule["apiGroups"] for r in rule["resources"]}
    assert not any("*" in rule["verbs"] or "*" in rule["resources"] for rule in rules)
    assert not {v for rule in rules for v in rule["verbs"]} & {"deletecollection", "escalate", "bind"}
    deletable = {
        (g, r) for rule in rules if "delete" in rule["verbs"] for g in rule["apiGroups"] for r in rule["resources"]
    }
    assert deletable == {("cluster.x-k8s.io", "clusters")}  # a decommissioned cluster, and nothing else
    assert ("", "secrets") not in everything and ("", "configmaps") not in everything
    for group, kind in WORKLOAD_KINDS:
        assert {"list", "watch"} <= verbs_of(group, plural(kind))
    assert verbs_of("cluster.x-k8s.io", "clusters") == {"get", "list", "watch", "create", "patch", "update", "delete"}
    assert verbs_of("cluster.x-k8s.io", "machines") == {"list", "watch"}
    assert verbs_of("fleetc.io", "fleetrollouts") == {"get", "list", "watch"}
    assert verbs_of("fleetc.io", "fleetrollouts/status") == {"update"}
    assert verbs_of("fleetc.io", "fleetrevisions/status") == set()
    assert verbs_of("", "events") == {"create"}


def test_every_template_kind_a_provider_renders_can_be_applied() -> None:
    kinds = dict.fromkeys(kind for _, kind in applied_kinds())
    assert {"AWSMachineTemplate", "DevClusterTemplate", "VSphereMachineTemplate", "ClusterClass", "Namespace"} <= set(
        kinds
    )
    assert verbs_of("infrastructure.cluster.x-k8s.io", "awsmachinetemplates") == {"create", "get", "patch"}
    assert plural("ClusterClass") == "clusterclasses"


def test_the_lease_rules_name_one_lease() -> None:
    by_verbs = {tuple(rule["verbs"]): rule for rule in lease_rules()}
    assert by_verbs[("get", "update")]["resourceNames"] == ["fleetc-controller"]
    assert "resourceNames" not in by_verbs[("create",)]  # create cannot be limited by name


def test_the_installed_crds_are_structural_with_status_printer_columns_and_short_names() -> None:
    by_kind = {c["spec"]["names"]["kind"]: c for c in crds()}
    rollout = by_kind["FleetRollout"]["spec"]["versions"][0]
    assert rollout["subresources"] == {"status": {}}
    columns = [c["name"] for c in rollout["additionalPrinterColumns"]]
    assert columns == ["Phase", "Wave", "Progress", "Revision", "Halted", "Age"]
    assert "fro" in by_kind["FleetRollout"]["spec"]["names"]["shortNames"]
    assert "subresources" not in by_kind["FleetRevision"]["spec"]["versions"][0]

    def untyped(schema: dict[str, object], path: str) -> list[str]:
        found = [] if "type" in schema or schema.get("x-kubernetes-preserve-unknown-fields") else [path]
        for name, sub in (schema.get("properties") or {}).items():  # type: ignore[attr-defined]
            found += untyped(sub, f"{path}.{name}")
        if isinstance(schema.get("items"), dict):
            found += untyped(schema["items"], f"{path}[]")  # type: ignore[arg-type]
        return found

    for crd in crds():
        schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
        assert untyped(schema, crd["spec"]["names"]["kind"]) == []
        assert "$ref" not in str(schema) and "anyOf" not in str(schema) and "title" not in str(schema)


def test_install_print_renders_everything_with_the_image_and_namespace_asked_for() -> None:
    result = CliRunner().invoke(cli, ["install", "--print", "--namespace", "ops", "--image", "registry/fleetc:1.2"])
    assert result.exit_code == 0, result.output
    documents = list(yaml.safe_load_all(result.output))
    assert [d["kind"] for d in documents] == ["CustomResourceDefinition"] * 3 + [
        "Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "Deployment",
        "ServiceAccount", "ClusterRole", "ClusterRoleBinding",
    ]  # fmt: skip
    deployment = documents[-4]
    pipeline = documents[-3]
    assert (pipeline["metadata"]["name"], pipeline["metadata"]["namespace"]) == ("fleetc-pipeline", "ops")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "registry/fleetc:1.2"
    assert container["args"][:4] == ["controller", "run", "--namespace", "ops"]
    assert deployment["metadata"]["namespace"] == "ops"
    assert deployment["spec"]["template"]["spec"]["serviceAccountName"] == "fleetc-controller"


def test_install_without_print_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["install"])
    assert result.exit_code == 2 and "--print" in result.output
