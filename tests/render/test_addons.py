"""Add-ons: files a class or provider ships become a ConfigMap and a ClusterResourceSet selecting its clusters.

Validation reads every file: it must exist, parse, hold only Kubernetes objects and fit a ConfigMap (1 MiB).
"""

from __future__ import annotations

from typing import Any

import pytest

from fleetc import MemoryTree, validate_tree
from fleetc.render.compile import compile_fleet
from fleetc.render.rendered import RenderedSet
from tests.builders import FleetBuilder, assert_valid, only
from tests.render.providers.support import violations

CNI = """apiVersion: v1
kind: Namespace
metadata:
  name: kube-flannel
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: flannel
  namespace: kube-flannel
"""


def _fleet(files: dict[str, str], **addon: Any) -> FleetBuilder:
    fleet = FleetBuilder.minimal()
    fleet.set("Fleet", "test", "spec.exclude", ["addons/**"])
    fleet.set("ClusterClass", "standard", "spec.addons", [{"name": "cni", "files": list(files), **addon}])
    for path, text in files.items():
        fleet.raw(path, text)
    return fleet


def _compile(fleet: FleetBuilder) -> RenderedSet:
    result = validate_tree(MemoryTree({p: fleet.text(p).encode() for p in fleet.files}, "fleet"))
    assert_valid(result)
    assert result.fleet is not None
    return compile_fleet(result.fleet)


def _by_kind(rendered: RenderedSet, kind: str) -> list[dict[str, Any]]:
    return [m for m in rendered.manifests() if m["kind"] == kind]


def test_a_class_addon_becomes_a_configmap_and_a_resource_set_selecting_the_class() -> None:
    rendered = _compile(_fleet({"addons/cni.yaml": CNI}))

    [config_map] = _by_kind(rendered, "ConfigMap")
    [resource_set] = _by_kind(rendered, "ClusterResourceSet")
    assert config_map["data"] == {"addons.cni.yaml": CNI}
    assert resource_set["metadata"]["name"] == config_map["metadata"]["name"] == "class-standard-cni"
    selector = resource_set["spec"]["clusterSelector"]["matchLabels"]
    assert selector == {"fleetc.io/fleet": "test", "fleetc.io/class": "standard"}
    assert resource_set["spec"]["resources"] == [{"kind": "ConfigMap", "name": "class-standard-cni"}]
    for cluster in _by_kind(rendered, "Cluster"):
        assert selector.items() <= cluster["metadata"]["labels"].items()
    assert violations(rendered.manifests()) == []


def test_a_provider_addon_selects_the_providers_clusters_in_each_of_their_namespaces() -> None:
    fleet = FleetBuilder.minimal().set("Fleet", "test", "spec.exclude", ["addons/**"])
    fleet.set("Provider", "aws-eu", "spec.addons", [{"name": "ccm", "files": ["addons/ccm.yaml"]}])
    fleet.raw("addons/ccm.yaml", CNI)
    fleet.set("Cluster", "eu-2", "spec.namespace", "team-b")

    rendered = _compile(fleet)

    sets = _by_kind(rendered, "ClusterResourceSet")
    assert sorted(s["metadata"]["namespace"] for s in sets) == ["fleet-clusters", "team-b"]
    assert all(s["spec"]["clusterSelector"]["matchLabels"]["fleetc.io/provider"] == "aws-eu" for s in sets)


@pytest.mark.parametrize(
    ("files", "fragment"),
    [
        pytest.param({}, "no YAML file 'addons/missing.yaml'", id="missing"),
        pytest.param({"addons/bad.yaml": "a: [1, 2\n"}, "does not parse as YAML", id="unparsable"),
        pytest.param({"addons/list.yaml": "- 1\n- 2\n"}, "document 1 is not a Kubernetes object", id="not-an-object"),
        pytest.param({"addons/empty.yaml": "---\n"}, "holds no Kubernetes object", id="empty"),
    ],
)
def test_an_addon_file_that_cannot_be_applied_is_an_error_at_its_entry(files: dict[str, str], fragment: str) -> None:
    fleet = _fleet(files or {"addons/present.yaml": CNI})
    if not files:
        fleet.set("ClusterClass", "standard", "spec.addons", [{"name": "cni", "files": ["addons/missing.yaml"]}])

    diagnostic = only(fleet.validate(), field="spec.addons[0].files[0]")

    assert fragment in diagnostic.message
    assert diagnostic.location.path == "fleet/classes.yaml"


def test_an_addon_over_a_configmaps_limit_is_an_error() -> None:
    big = (
        CNI
        + "---\n"
        + "".join(
            f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}\ndata:\n  x: {'y' * 60000}\n---\n"
            for i in range(18)
        )
    )

    diagnostic = only(_fleet({"addons/big.yaml": big}).validate(), field="spec.addons[0].files")

    assert "its ConfigMap holds at most 1 MiB" in diagnostic.message


def test_an_addon_name_is_unique_per_owner() -> None:
    fleet = _fleet({"addons/cni.yaml": CNI})
    fleet.set("ClusterClass", "standard", "spec.addons", [{"name": "cni", "files": ["addons/cni.yaml"]}] * 2)

    only(fleet.validate(), field="spec.addons[1].name", fragment="listed twice")
