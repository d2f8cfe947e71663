"""Every patch definition selects a template of its ClusterClass, as CAPI's ClusterClass webhook requires.

``selector_problems`` follows ``validateSelectors`` in CAPI v1.14 (``core/webhooks/admission/patch_validation.go``):
an enabled ``infrastructureCluster``, ``controlPlane`` or ``machineDeploymentClass`` selector must match a
template reference of the class by apiVersion and kind.
"""

from __future__ import annotations

import copy

import pytest

from fleetc.core.keys import Manifest
from tests.render.providers.support import CLASS, CLOUD_TYPES, compile_documents, default_cluster, one, provider


def _matches(selector: Manifest, ref: Manifest) -> bool:
    return bool((selector["apiVersion"], selector["kind"]) == (ref["apiVersion"], ref["kind"]))


def selector_problems(cluster_class: Manifest) -> list[str]:
    """What CAPI's webhook says about the class's patch selectors (empty when it admits them)."""
    spec, problems = cluster_class["spec"], []
    deployments = spec.get("workers", {}).get("machineDeployments", [])
    for patch in spec.get("patches", []):
        for index, definition in enumerate(patch["definitions"]):
            selector, where = definition["selector"], f"{patch['name']}[{index}]"
            match = selector["matchResources"]
            if match.get("infrastructureCluster") and not _matches(selector, spec["infrastructure"]["templateRef"]):
                problems.append(f"{where}: does not match the infrastructure ref")
            control_plane = spec["controlPlane"]
            refs = [control_plane["templateRef"], control_plane["machineInfrastructure"]["templateRef"]]
            if match.get("controlPlane") and not any(_matches(selector, r) for r in refs):
                problems.append(f"{where}: matches neither controlPlane ref")
            for name in match.get("machineDeploymentClass", {}).get("names", []):
                if not any(
                    (name in ("*", md["class"]))
                    and (
                        _matches(selector, md["bootstrap"]["templateRef"])
                        or _matches(selector, md["infrastructure"]["templateRef"])
                    )
                    for md in deployments
                ):
                    problems.append(f"{where}: {name} matches no MachineDeployment class")
    return problems


@pytest.mark.parametrize("provider_type", CLOUD_TYPES)
def test_a_class_with_pools_has_only_selectors_capi_admits(provider_type: str) -> None:
    doc = provider(provider_type)
    rendered = compile_documents(doc, default_cluster(doc))

    assert selector_problems(one(rendered, "ClusterClass")) == []


@pytest.mark.parametrize("provider_type", CLOUD_TYPES)
def test_a_class_without_worker_pools_emits_no_worker_patch(provider_type: str) -> None:
    control_plane_only = copy.deepcopy(CLASS)
    del control_plane_only["spec"]["workers"]
    doc = provider(provider_type)

    rendered = compile_documents(doc, default_cluster(doc), cluster_class=control_plane_only)

    cluster_class = one(rendered, "ClusterClass")
    assert "workers" not in cluster_class["spec"]
    assert selector_problems(cluster_class) == []
