"""Names are unique per kind across the fleet (files, documents and generated clusters alike); waves too."""

from __future__ import annotations

from typing import Any

import pytest

from tests.builders import (
    AWS_DOC,
    CLASS_DOC,
    DEV_DOC,
    FleetBuilder,
    assert_valid,
    at,
    cluster_doc,
    cluster_set_doc,
    only,
    position,
)


@pytest.mark.parametrize(
    ("document", "first_file"),
    [
        pytest.param(cluster_doc("eu-1"), "clusters.yaml", id="cluster"),
        pytest.param(CLASS_DOC, "classes.yaml", id="class"),
        pytest.param(AWS_DOC, "providers.yaml", id="provider"),
    ],
)
def test_second_definition_of_a_name_points_at_the_first(document: dict[str, Any], first_file: str) -> None:
    fleet = FleetBuilder.minimal().add("zz-more.yaml", document)
    kind, name = document["kind"], document["metadata"]["name"]
    diagnostic = only(fleet.validate(), field="metadata.name")
    assert diagnostic.message == f"{kind} '{name}' is already defined at fleet/{first_file}:1:1"
    assert at(diagnostic) == ("fleet/zz-more.yaml", *position(fleet.text("zz-more.yaml"), f"name: {name}", value=True))


def test_duplicate_in_the_same_file_is_reported() -> None:
    fleet = FleetBuilder.minimal().add("clusters.yaml", cluster_doc("eu-2"))
    diagnostic = only(fleet.validate(), field="metadata.name")
    text = fleet.text("clusters.yaml")
    assert at(diagnostic) == ("fleet/clusters.yaml", *position(text, "name: eu-2", occurrence=2, value=True))
    first_line, _ = position(text, "apiVersion", occurrence=2)
    assert diagnostic.message.endswith(f"already defined at fleet/clusters.yaml:{first_line}:1")


@pytest.mark.parametrize(
    "document",
    [
        pytest.param({**CLASS_DOC, "metadata": {"name": "eu-1"}}, id="class-named-like-a-cluster"),
        pytest.param({**DEV_DOC, "metadata": {"name": "standard"}}, id="provider-named-like-a-class"),
    ],
)
def test_the_same_name_in_different_kinds_is_allowed(document: dict[str, Any]) -> None:
    assert_valid(FleetBuilder.minimal().add("more.yaml", document).validate())


def test_generated_cluster_colliding_with_an_explicit_one_is_reported_at_the_template() -> None:
    template = {
        "metadata": {"name": "eu-${n}", "labels": {"ring": "broad"}},
        "spec": {"class": "standard", "provider": "local"},
    }
    fleet = FleetBuilder.minimal().add("sets.yaml", cluster_set_doc("more", {"n": ["1", "9"]}, template))
    diagnostic = only(fleet.validate(), field="spec.template.metadata.name")
    assert diagnostic.text == "Cluster 'eu-1' is already defined at fleet/clusters.yaml:1:1 [ClusterSet more: n=1]"
    assert at(diagnostic) == ("fleet/sets.yaml", *position(fleet.text("sets.yaml"), "name: eu-${n}", value=True))


def test_generated_names_that_do_not_collide_are_accepted() -> None:
    template = {
        "metadata": {"name": "eu-${n}", "labels": {"ring": "broad"}},
        "spec": {"class": "standard", "provider": "local"},
    }
    fleet = FleetBuilder.minimal().add("sets.yaml", cluster_set_doc("more", {"n": ["3", "4"]}, template))
    result = fleet.validate()
    assert_valid(result)
    assert result.fleet is not None
    assert sorted(result.fleet.clusters) == ["eu-1", "eu-2", "eu-3", "eu-4"]


def test_two_cluster_sets_of_the_same_name_are_reported() -> None:
    template = {
        "metadata": {"name": "x-${n}", "labels": {"ring": "broad"}},
        "spec": {"class": "standard", "provider": "local"},
    }
    fleet = (
        FleetBuilder.minimal()
        .add("a.yaml", cluster_set_doc("set", {"n": ["1"]}, template))
        .add("b.yaml", cluster_set_doc("set", {"n": ["2"]}, template))
    )
    diagnostic = only(fleet.validate(), field="metadata.name")
    assert diagnostic.message == "ClusterSet 'set' is already defined at fleet/a.yaml:1:1"
    assert diagnostic.location.path == "fleet/b.yaml"


def test_wave_names_are_unique() -> None:
    fleet = FleetBuilder.minimal().set("Fleet", None, ("spec", "rollout", "waves", 1, "name"), "canary")
    diagnostic = only(fleet.validate(), field="spec.rollout.waves[1].name")
    assert diagnostic.message == "wave 'canary' is defined twice"
    assert at(diagnostic) == (
        "fleet/fleet.yaml",
        *position(fleet.text("fleet.yaml"), "name: canary", occurrence=2, value=True),
    )
