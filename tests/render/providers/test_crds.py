"""Every cloud provider's objects against the real upstream CRDs, before and after CAPI applies the class patches."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fleetc import DiskTree, validate_tree
from fleetc.render.compile import compile_fleet
from fleetc.render.providers.registry import provider_for
from tests.render.providers.support import (
    CLOUD_TYPES,
    default_cluster,
    one,
    patched_objects,
    provider,
    render,
    schemas,
    violations,
)

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "fleet"
_VERSION = re.compile(r"^v(\d+)(?:(alpha|beta)(\d+))?$")


def _version_order(version: str) -> tuple[int, int, int]:
    """Kubernetes API version priority: v1 > v1beta2 > v1beta1 > v1alpha1."""
    match = _VERSION.match(version)
    assert match, version
    major, stage, number = match.groups()
    return int(major), {"alpha": 0, "beta": 1, None: 2}[stage], int(number or 0)


def _served_versions(kind: str) -> list[str]:
    """The versions of ``kind`` the CRDs under ``shared/`` serve (CrdSchemas keeps served versions only)."""
    served = [version for group, version, name in schemas().raw if name == kind]
    assert served, f"no CRD serves {kind}"
    return served


@pytest.mark.parametrize("provider_type", CLOUD_TYPES)
def test_every_rendered_object_passes_the_crds(provider_type: str) -> None:
    rendered = render(provider(provider_type))

    assert violations(rendered.manifests()) == []


@pytest.mark.parametrize("provider_type", CLOUD_TYPES)
def test_templates_pass_the_crds_after_the_class_patches(provider_type: str) -> None:
    rendered = render(provider(provider_type))

    assert violations(patched_objects(rendered, "c1")) == []


@pytest.mark.parametrize("provider_type", CLOUD_TYPES)
def test_every_patch_selects_a_rendered_template(provider_type: str) -> None:
    rendered = render(provider(provider_type))
    cluster_class = one(rendered, "ClusterClass")
    kinds = {(m["apiVersion"], m["kind"]) for m in rendered.manifests()}

    selected = [
        (d["selector"]["apiVersion"], d["selector"]["kind"])
        for patch in cluster_class["spec"]["patches"]
        for d in patch["definitions"]
    ]

    assert selected
    assert set(selected) <= kinds


@pytest.mark.parametrize("provider_type", CLOUD_TYPES)
def test_kinds_use_the_newest_api_version_their_crds_serve(provider_type: str) -> None:
    kinds = provider_for(provider_type).kinds
    group, _, version = kinds.api_version.rpartition("/")

    for kind in (kinds.cluster_template, kinds.machine_template):
        served = _served_versions(kind)
        assert group == "infrastructure.cluster.x-k8s.io"
        assert version == max(served, key=_version_order), f"{kind} serves {served}"


def test_vsphere_uses_v1beta2_although_its_crds_still_serve_v1beta1() -> None:
    assert set(_served_versions("VSphereClusterTemplate")) == {"v1beta1", "v1beta2"}
    assert provider_for("vsphere").kinds.api_version == "infrastructure.cluster.x-k8s.io/v1beta2"


def test_the_example_fleet_compiles_and_every_object_passes_the_crds() -> None:
    result = validate_tree(DiskTree.open(str(EXAMPLES)))
    assert result.ok and result.fleet is not None, "\n".join(map(str, result.diagnostics))

    rendered = compile_fleet(result.fleet)

    types = {p.document.spec.type for p in result.fleet.providers.values()}
    assert types == {"aws", "azure", "vsphere", "dev-inmemory", "dev-docker"}
    assert violations(rendered.manifests()) == []


def test_the_example_fleets_patched_templates_pass_the_crds() -> None:
    result = validate_tree(DiskTree.open(str(EXAMPLES)))
    assert result.fleet is not None
    rendered = compile_fleet(result.fleet)

    for cluster_name in result.fleet.clusters:
        assert violations(patched_objects(rendered, cluster_name)) == [], cluster_name


@pytest.mark.parametrize("provider_type", CLOUD_TYPES)
def test_two_clusters_on_one_provider_share_one_class_revision(provider_type: str) -> None:
    doc = provider(provider_type)
    first, second = default_cluster(doc, "c1"), default_cluster(doc, "c2")
    if provider_type == "vsphere":
        second["spec"]["controlPlaneEndpoint"] = {"host": "10.20.2.10"}

    rendered = render(doc, first, second)

    assert len([m for m in rendered.manifests() if m["kind"] == "ClusterClass"]) == 1
