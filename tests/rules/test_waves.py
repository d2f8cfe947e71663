"""Rollout waves: every cluster falls in exactly one wave, selected by its labels (over the fleet defaults)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.builders import FleetBuilder, assert_valid, at, only, position

RING_WAVES = [
    {"name": "canary", "selector": {"matchLabels": {"ring": "canary"}}},
    {"name": "broad", "selector": {"matchLabels": {"ring": "broad"}}},
]


def _waves(waves: list[dict[str, Any]]) -> FleetBuilder:
    return FleetBuilder.minimal().set("Fleet", None, "spec.rollout.waves", waves)


def test_cluster_in_no_wave_is_reported_with_its_labels() -> None:
    fleet = _waves(RING_WAVES).set("Cluster", "eu-2", "metadata.labels", {"ring": "late", "env": "prod"})
    diagnostic = only(fleet.validate(), field="metadata.labels")
    assert diagnostic.message == "matches no rollout wave (labels: env=prod, ring=late)"
    assert at(diagnostic) == ("fleet/clusters.yaml", *position(fleet.text("clusters.yaml"), "ring: late"))


def test_cluster_without_labels_in_no_wave_says_so() -> None:
    fleet = _waves(RING_WAVES).unset("Cluster", "eu-2", "metadata.labels")
    assert only(fleet.validate(), field="metadata.labels").message == "matches no rollout wave (labels: none)"


def test_cluster_in_two_waves_names_them() -> None:
    waves = [*RING_WAVES, {"name": "prod", "selector": {"matchExpressions": [{"key": "ring", "operator": "Exists"}]}}]
    fleet = _waves(waves)
    result = fleet.validate()
    messages = {d.message for d in result.diagnostics if d.field == "metadata.labels"}
    assert messages == {
        "matches more than one rollout wave (canary, prod); every cluster needs exactly one",
        "matches more than one rollout wave (broad, prod); every cluster needs exactly one",
    }


@pytest.mark.parametrize(
    ("selector", "labels"),
    [
        pytest.param({"matchLabels": {"ring": "broad"}}, {"ring": "broad"}, id="match-labels"),
        pytest.param(
            {"matchExpressions": [{"key": "ring", "operator": "In", "values": ["a", "broad"]}]},
            {"ring": "broad"},
            id="in",
        ),
        pytest.param(
            {"matchExpressions": [{"key": "ring", "operator": "NotIn", "values": ["canary"]}]}, {}, id="not-in-absent"
        ),
        pytest.param({"matchExpressions": [{"key": "tier", "operator": "Exists"}]}, {"tier": "x"}, id="exists"),
        pytest.param({"matchExpressions": [{"key": "ring", "operator": "DoesNotExist"}]}, {}, id="does-not-exist"),
    ],
)
def test_selectors_place_the_cluster_in_exactly_one_wave(selector: dict[str, Any], labels: dict[str, str]) -> None:
    waves = [RING_WAVES[0], {"name": "rest", "selector": selector}]
    fleet = _waves(waves).set("Cluster", "eu-2", "metadata.labels", labels)
    result = fleet.validate()
    assert_valid(result)
    assert result.fleet is not None
    cluster = result.fleet.clusters["eu-2"].document
    assert [w.name for w in result.fleet.waves_of(cluster)] == ["rest"]


def test_one_wave_with_an_empty_selector_takes_every_cluster() -> None:
    assert_valid(_waves([{"name": "all", "selector": {}}]).validate())


def test_fleet_default_labels_count_and_the_cluster_labels_win() -> None:
    fleet = _waves(RING_WAVES).set("Fleet", None, "spec.defaults.labels", {"ring": "broad"})
    fleet.unset("Cluster", "eu-2", "metadata.labels")
    assert_valid(fleet.validate())


@pytest.mark.parametrize(
    ("requirement", "message"),
    [
        pytest.param({"key": "ring", "operator": "In"}, "operator In needs at least one value", id="in-without-values"),
        pytest.param(
            {"key": "ring", "operator": "Exists", "values": ["x"]},
            "operator Exists takes no values",
            id="exists-with-values",
        ),
        pytest.param(
            {"key": "ring", "operator": "Equals", "values": ["x"]},
            "Input should be 'In', 'NotIn', 'Exists' or 'DoesNotExist'",
            id="unknown-operator",
        ),
    ],
)
def test_selector_expressions_are_checked(requirement: dict[str, Any], message: str) -> None:
    fleet = _waves([RING_WAVES[0], {"name": "rest", "selector": {"matchExpressions": [requirement]}}])
    assert message in only(fleet.validate()).message
