"""Constrained values: DNS-1123 names, vX.Y.Z versions, durations, counts-or-percentages, CIDRs, bounds, labels.

Each is checked where it is written and reported at that value with a message saying what is allowed.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.builders import FleetBuilder, assert_valid, at, only, position

DNS_MESSAGE = "is not a DNS-1123 label"
BAD_NAMES = [
    pytest.param("EU-1", id="uppercase"),
    pytest.param("eu_1", id="underscore"),
    pytest.param("-eu", id="leading-dash"),
    pytest.param("eu-", id="trailing-dash"),
    pytest.param("eu.1", id="dot"),
    pytest.param("../x", id="path"),
    pytest.param("a" * 64, id="64-chars"),
]
GOOD_NAMES = [
    pytest.param("eu-3", id="dashed"),
    pytest.param("a", id="one-char"),
    pytest.param("0101", id="digits"),
    pytest.param("a" * 63, id="63-chars"),
]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_cluster_name_must_be_a_dns_label(name: str) -> None:
    fleet = FleetBuilder.minimal().set("Cluster", "eu-2", "metadata.name", name)
    diagnostic = only(fleet.validate(), field="metadata.name")
    assert diagnostic.message.startswith(f"'{name}' {DNS_MESSAGE}")
    assert "names become object names and file paths" in diagnostic.message
    assert at(diagnostic) == (
        "fleet/clusters.yaml",
        *position(fleet.text("clusters.yaml"), f"name: {name}\n", value=True),
    )


@pytest.mark.parametrize("name", GOOD_NAMES)
def test_dns_label_names_are_accepted(name: str) -> None:
    assert_valid(FleetBuilder.minimal().set("Cluster", "eu-2", "metadata.name", name).validate())


@pytest.mark.parametrize(
    ("kind", "name", "parent", "field"),
    [
        pytest.param("ClusterClass", "standard", "metadata", "metadata.name", id="class"),
        pytest.param("Provider", "local", "metadata", "metadata.name", id="provider"),
        pytest.param("Fleet", None, "metadata", "metadata.name", id="fleet"),
    ],
)
def test_every_kind_has_dns_label_names(kind: str, name: str | None, parent: str, field: str) -> None:
    fleet = FleetBuilder.minimal().set(kind, name, f"{parent}.name", "Bad_Name")
    assert DNS_MESSAGE in only(fleet.validate(), field=field).message


@pytest.mark.parametrize(
    ("kind", "name", "path", "value", "field"),
    [
        pytest.param(
            "ClusterClass",
            "standard",
            "spec.workers",
            {"General": {"size": "large", "replicas": 1}},
            "spec.workers.General",
            id="pool-name",
        ),
        pytest.param(
            "Fleet",
            None,
            ("spec", "rollout", "waves", 0, "name"),
            "Canary",
            "spec.rollout.waves[0].name",
            id="wave-name",
        ),
        pytest.param(
            "Cluster", "eu-1", "spec.workers", {"General": {"replicas": 1}}, "spec.workers.General", id="override-pool"
        ),
        pytest.param("Provider", "aws-eu", "spec.sizes", {"Large": "m6i"}, "spec.sizes.Large", id="size-name"),
        pytest.param(
            "Fleet",
            None,
            "spec.versions.channels",
            {"Stable": "v1.34.2"},
            "spec.versions.channels.Stable",
            id="channel",
        ),
        pytest.param("Cluster", "eu-1", "spec.namespace", "Fleet_NS", "spec.namespace", id="namespace"),
    ],
)
def test_names_inside_documents_are_dns_labels(kind: str, name: str | None, path: Any, value: Any, field: str) -> None:
    fleet = FleetBuilder.minimal().set(kind, name, path, value)
    assert DNS_MESSAGE in only(fleet.validate(), field=field, fragment=DNS_MESSAGE).message


@pytest.mark.parametrize(
    ("version", "hint"),
    [
        pytest.param("1.34.2", "; write 'v1.34.2'", id="no-v"),
        pytest.param("v1.34", "", id="no-patch"),
        pytest.param("v1.34.02", "", id="leading-zero"),
        pytest.param("v1.34.2-rc.1", "", id="pre-release"),
        pytest.param("latest", "", id="word"),
    ],
)
def test_version_must_be_vx_y_z(version: str, hint: str) -> None:
    fleet = FleetBuilder.minimal().set("Cluster", "eu-1", "spec.version", version)
    diagnostic = only(fleet.validate(), field="spec.version")
    assert diagnostic.message == f"'{version}' is not a Kubernetes version of the form vX.Y.Z{hint}"
    assert at(diagnostic) == ("fleet/clusters.yaml", *position(fleet.text("clusters.yaml"), "version: ", value=True))


def test_catalogue_versions_are_checked_one_by_one() -> None:
    fleet = FleetBuilder.minimal().set("Fleet", None, "spec.versions.catalogue", ["v1.33.6", "1.34.2", "v1.35.0"])
    diagnostic = only(fleet.validate(), field="spec.versions.catalogue[1]")
    assert diagnostic.message.endswith("; write 'v1.34.2'")


DURATION_PATH = ("spec", "rollout", "waves", 0, "soak")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        pytest.param(
            30, "'30' is not a duration; write it with a unit, such as '90s', '10m' or '1h30m'", id="bare-int"
        ),
        pytest.param("1d", "'1d' is not a duration; use h, m and s, such as '90s', '10m' or '1h30m'", id="days"),
        pytest.param("10min", "'10min' is not a duration; use h, m and s, such as '90s', '10m' or '1h30m'", id="min"),
        pytest.param("1m1h", "'1m1h' is not a duration; use h, m and s, such as '90s', '10m' or '1h30m'", id="order"),
        pytest.param("", "'' is not a duration; use h, m and s, such as '90s', '10m' or '1h30m'", id="empty"),
    ],
)
def test_duration_needs_units(value: Any, message: str) -> None:
    fleet = FleetBuilder.minimal().set("Fleet", None, DURATION_PATH, value)
    assert only(fleet.validate(), field="spec.rollout.waves[0].soak").message == message


@pytest.mark.parametrize("value", ["90s", "10m", "1h30m", "2h", "1h0m5s"])
def test_durations_with_units_are_accepted(value: str) -> None:
    fleet = FleetBuilder.minimal().set("Fleet", None, DURATION_PATH, value)
    assert_valid(fleet.validate())


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(("spec", "healthCheck", "nodeStartupTimeout"), id="node-startup"),
        pytest.param(("spec", "healthCheck", "unhealthyNodeTimeout"), id="unhealthy-node"),
        pytest.param(("spec", "controlPlane", "healthCheck", "nodeStartupTimeout"), id="control-plane"),
    ],
)
def test_class_timeouts_are_durations(path: tuple[str, ...]) -> None:
    fleet = FleetBuilder.minimal().set("ClusterClass", "standard", path, "5 minutes")
    assert "is not a duration" in only(fleet.validate(), field=".".join(path)).message


AMOUNT_MESSAGE = "is neither a count (0 or more) nor a percentage such as '25%'"


@pytest.mark.parametrize("key", ["maxConcurrent", "failureBudget"])
@pytest.mark.parametrize(
    "value",
    [
        pytest.param("150%", id="over-100"),
        pytest.param(-1, id="negative"),
        pytest.param("two", id="word"),
        pytest.param("10 %", id="space"),
        pytest.param(True, id="bool"),
        pytest.param(1.5, id="float"),
    ],
)
def test_amount_is_a_count_or_a_percentage(key: str, value: Any) -> None:
    fleet = FleetBuilder.minimal().set("Fleet", None, ("spec", "rollout", "waves", 1, key), value)
    diagnostic = only(fleet.validate(), field=f"spec.rollout.waves[1].{key}")
    assert diagnostic.message == f"'{value}' {AMOUNT_MESSAGE}"
    line, column = position(fleet.text("fleet.yaml"), f"{key}: ", value=True, after="name: broad")
    assert at(diagnostic) == ("fleet/fleet.yaml", line, column)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        *[("failureBudget", v) for v in (0, 3, "0%", "25%", "100%")],
        # maxConcurrent 0 lets no cluster through: an error (tests/rules/test_admission.py)
        *[("maxConcurrent", v) for v in (3, "25%", "100%")],
    ],
)
def test_counts_and_percentages_are_accepted(key: str, value: Any) -> None:
    fleet = FleetBuilder.minimal().set("Fleet", None, ("spec", "rollout", "waves", 1, key), value)
    assert_valid(fleet.validate())


@pytest.mark.parametrize(
    ("cidr", "reason"),
    [
        pytest.param("10.0.0.1/8", "has host bits set", id="host-bits"),
        pytest.param("10.0.0.0/33", "does not appear to be an IPv4 or IPv6 network", id="prefix-too-long"),
        pytest.param("podnet", "does not appear to be an IPv4 or IPv6 network", id="word"),
    ],
)
def test_cidr_must_parse(cidr: str, reason: str) -> None:
    fleet = FleetBuilder.minimal().set("ClusterClass", "standard", "spec.network.pods", [cidr])
    diagnostic = only(fleet.validate(), field="spec.network.pods[0]")
    assert diagnostic.message.startswith(f"'{cidr}' is not a CIDR block (")
    assert reason in diagnostic.message
    assert at(diagnostic) == ("fleet/classes.yaml", *position(fleet.text("classes.yaml"), cidr))


@pytest.mark.parametrize("pods", [["10.0.0.0/9"], ["fd00:10::/56"], ["192.168.0.0/16", "fd00:10::/56"]])
def test_ipv4_ipv6_and_dual_stack_cidrs_are_accepted(pods: list[str]) -> None:
    fleet = FleetBuilder.minimal().set("ClusterClass", "standard", "spec.network.pods", pods)
    fleet.set("Provider", "aws-eu", "spec", {"type": "dev-docker"})  # the only provider type that takes IPv6 ranges
    assert_valid(fleet.validate())


def test_cluster_network_override_cidrs_are_checked_too() -> None:
    fleet = FleetBuilder.minimal().set("Cluster", "eu-1", "spec.network.services", ["10.96.0.0/12x"])
    assert "is not a CIDR block" in only(fleet.validate(), field="spec.network.services[0]").message


POOL = ("spec", "workers", "general")
EITHER = "set either replicas or autoscaling bounds"


@pytest.mark.parametrize(
    ("pool", "field", "fragment"),
    [
        pytest.param(
            {"size": "large", "autoscaling": {"min": 5, "max": 2}},
            "spec.workers.general.autoscaling",
            "min (5) is greater than max (2)",
            id="min-over-max",
        ),
        pytest.param(
            {"size": "large", "replicas": 3, "autoscaling": {"min": 1, "max": 4}},
            "spec.workers.general",
            EITHER,
            id="replicas-and-bounds",
        ),
        pytest.param({"size": "large"}, "spec.workers.general", EITHER, id="neither-replicas-nor-bounds"),
        pytest.param(
            {"size": "large", "autoscaling": {"min": 0, "max": 0}},
            "spec.workers.general.autoscaling.max",
            "Input should be greater than or equal to 1",
            id="max-zero",
        ),
        pytest.param(
            {"size": "large", "autoscaling": {"min": -1, "max": 3}},
            "spec.workers.general.autoscaling.min",
            "Input should be greater than or equal to 0",
            id="min-negative",
        ),
    ],
)
def test_pool_sizing_is_replicas_or_ordered_autoscaling_bounds(pool: dict[str, Any], field: str, fragment: str) -> None:
    fleet = FleetBuilder.minimal().set("ClusterClass", "standard", POOL, pool)
    assert fragment in only(fleet.validate(), field=field).message


@pytest.mark.parametrize(
    "pool",
    [
        pytest.param({"size": "large", "autoscaling": {"min": 0, "max": 4}}, id="bounds-only"),
        pytest.param({"size": "large", "autoscaling": {"min": 4, "max": 4}}, id="equal-bounds"),
        pytest.param({"size": "large", "replicas": 0}, id="zero-replicas"),
    ],
)
def test_pool_sizing_that_holds_is_accepted(pool: dict[str, Any]) -> None:
    assert_valid(FleetBuilder.minimal().set("ClusterClass", "standard", POOL, pool).validate())


@pytest.mark.parametrize(
    ("labels", "field", "fragment"),
    [
        pytest.param({"ring": "-canary"}, "metadata.labels.ring", "is not a valid Kubernetes label value", id="value"),
        pytest.param({"ring": "x" * 64}, "metadata.labels.ring", "is not a valid Kubernetes label value", id="long"),
        pytest.param(
            {"ring": "canary", "bad key": "x"},
            "metadata.labels.bad key",
            "is not a valid Kubernetes label key",
            id="key",
        ),
    ],
)
def test_labels_follow_kubernetes_syntax(labels: dict[str, str], field: str, fragment: str) -> None:
    fleet = FleetBuilder.minimal().set("Cluster", "eu-1", "metadata.labels", labels)
    assert only(fleet.validate(), fragment=fragment).field == field


def test_prefixed_label_keys_are_accepted() -> None:
    labels = {"ring": "canary", "fleetc.io/team": "platform", "example.com/cost-center": "a1_b.c"}
    assert_valid(FleetBuilder.minimal().set("Cluster", "eu-1", "metadata.labels", labels).validate())


@pytest.mark.parametrize(
    ("override", "field"),
    [
        pytest.param({"controlPlane": {"replicas": 0}}, "spec.controlPlane.replicas", id="control-plane-zero"),
        pytest.param({"workers": {"general": {"replicas": -1}}}, "spec.workers.general.replicas", id="pool-negative"),
        pytest.param(
            {"controlPlaneEndpoint": {"host": "h", "port": 70000}}, "spec.controlPlaneEndpoint.port", id="port"
        ),
        pytest.param({"controlPlaneEndpoint": {"host": ""}}, "spec.controlPlaneEndpoint.host", id="empty-host"),
    ],
)
def test_cluster_override_numbers_are_bounded(override: dict[str, Any], field: str) -> None:
    fleet = FleetBuilder.minimal()
    for key, value in override.items():
        fleet.set("Cluster", "eu-1", ["spec", key], value)
    message = only(fleet.validate(), field=field).message
    assert message.startswith(("Input should be", "String should have"))


def test_version_and_channel_are_exclusive() -> None:
    fleet = (
        FleetBuilder.minimal()
        .set("Cluster", "eu-1", "spec.version", "v1.34.2")
        .set("Cluster", "eu-1", "spec.channel", "stable")
    )
    diagnostic = only(fleet.validate(), field="spec")
    assert diagnostic.message == "set either version or channel, not both"
