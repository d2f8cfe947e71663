"""What counts as a change: noise is dropped, named list items are matched by name, Secret values are masked.

Pure functions on plain manifests (:func:`fleetc.plan.diff.diff_sets`), parametrised; no git needed.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from fleetc.core.keys import ObjectKey
from fleetc.plan.diff import FieldChange, Op, diff_sets, format_path

BASE: dict[str, Any] = {
    "apiVersion": "cluster.x-k8s.io/v1beta2",
    "kind": "Cluster",
    "metadata": {"name": "eu-1", "namespace": "fleet", "annotations": {"fleetc.io/source": "clusters.yaml:1"}},
    "spec": {
        "topology": {
            "version": "v1.34.2",
            "workers": {
                "machineDeployments": [
                    {"class": "general", "name": "a", "replicas": 2},
                    {"class": "general", "name": "b", "replicas": 2},
                ]
            },
        }
    },
}
KEY = ObjectKey.of(BASE)


def _changes(after: dict[str, Any], before: dict[str, Any] = BASE) -> list[FieldChange]:
    changes = diff_sets({KEY: before}, {KEY: after})
    return [f for c in changes for f in c.fields]


def _edited(edit: str) -> dict[str, Any]:
    after = copy.deepcopy(BASE)
    deployments = after["spec"]["topology"]["workers"]["machineDeployments"]
    if edit == "provenance moved":
        after["metadata"]["annotations"]["fleetc.io/source"] = "clusters.yaml:40"
    elif edit == "status added":
        after["status"] = {"phase": "Provisioned"}
    elif edit == "server metadata added":
        after["metadata"].update({"resourceVersion": "12", "uid": "x", "managedFields": [{}]})
    elif edit == "named items reordered":
        deployments.reverse()
    return after


@pytest.mark.parametrize("edit", ["provenance moved", "status added", "server metadata added", "named items reordered"])
def test_noise_is_not_a_change(edit: str) -> None:
    assert diff_sets({KEY: BASE}, {KEY: _edited(edit)}) == ()


def test_a_named_list_item_is_compared_with_its_namesake_not_its_index() -> None:
    after = copy.deepcopy(BASE)
    deployments = after["spec"]["topology"]["workers"]["machineDeployments"]
    deployments.reverse()
    deployments[0]["replicas"] = 5  # "b", now first

    assert _changes(after) == [
        FieldChange("spec.topology.workers.machineDeployments[name=b].replicas", Op.CHANGED, 2, 5)
    ]


def test_a_real_annotation_change_is_kept_beside_the_dropped_provenance() -> None:
    after = copy.deepcopy(BASE)
    after["metadata"]["annotations"] = {"fleetc.io/source": "x:9", "team.example.com/owner": "ml"}

    assert _changes(after) == [FieldChange("metadata.annotations", Op.ADDED, None, {"team.example.com/owner": "ml"})]
    after["metadata"]["annotations"]["team.example.com/owner"] = "web"
    assert _changes(after, before=_with_owner("ml")) == [
        FieldChange('metadata.annotations["team.example.com/owner"]', Op.CHANGED, "ml", "web")
    ]


def _with_owner(owner: str) -> dict[str, Any]:
    manifest = copy.deepcopy(BASE)
    manifest["metadata"]["annotations"]["team.example.com/owner"] = owner
    return manifest


SECRET: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Secret",
    "metadata": {"name": "creds", "namespace": "fleet"},
    "data": {"password": "aHVudGVyMg==", "user": "YWRtaW4="},
}


def test_a_changed_secret_value_shows_as_masked_before_and_after() -> None:
    after = copy.deepcopy(SECRET)
    after["data"]["password"] = "c2VjcmV0"
    after["data"]["token"] = "dG9rZW4="

    [change] = diff_sets({ObjectKey.of(SECRET): SECRET}, {ObjectKey.of(after): after})

    assert list(change.fields) == [
        FieldChange("data.password", Op.CHANGED, "*** (before)", "*** (after)"),
        FieldChange("data.token", Op.ADDED, None, "*** (after)"),
    ]
    assert change.after is not None and change.after["data"] == {"password": "***", "token": "***", "user": "***"}
    assert "aHVudGVyMg==" not in repr(change) and "c2VjcmV0" not in repr(change)


def test_an_added_secret_carries_no_value() -> None:
    [change] = diff_sets({}, {ObjectKey.of(SECRET): SECRET})

    assert change.op is Op.ADDED
    assert change.after is not None and set(change.after["data"].values()) == {"***"}


@pytest.mark.parametrize(
    ("parts", "path"),
    [
        (["spec", "topology", "version"], "spec.topology.version"),
        (["metadata", "labels", "fleetc.io/wave"], 'metadata.labels["fleetc.io/wave"]'),
        (["spec", "cidrBlocks", 0], "spec.cidrBlocks[0]"),
        (["spec", "items", "[name=a]", "value"], "spec.items[name=a].value"),
    ],
)
def test_field_paths_read_like_dyff(parts: list[Any], path: str) -> None:
    assert format_path(parts) == path
