"""Version policy: the catalogue ascends, channels and pinned versions are in it, chained upgrades have every
minor, and versions CAPI v1.14 does not support (outside v1.31–v1.36) are a warning, not an error.
"""

from __future__ import annotations

import pytest

from fleetc import Severity
from tests.builders import FleetBuilder, assert_valid, at, only, position

CATALOGUE = "spec.versions.catalogue"


def _catalogue(*versions: str, chained: bool = False) -> FleetBuilder:
    fleet = FleetBuilder.minimal().set("Fleet", None, CATALOGUE, list(versions))
    fleet.set("Fleet", None, "spec.versions.channels", {"stable": versions[-1], "rapid": versions[-1]})
    return fleet.set("Fleet", None, "spec.versions.chainedUpgrades", chained)


@pytest.mark.parametrize(
    ("versions", "index", "message"),
    [
        pytest.param(
            ("v1.34.2", "v1.33.6", "v1.35.0"),
            1,
            "v1.33.6 is not above v1.34.2; list versions ascending, once each",
            id="descending",
        ),
        pytest.param(
            ("v1.34.2", "v1.34.2", "v1.35.0"),
            1,
            "v1.34.2 is not above v1.34.2; list versions ascending, once each",
            id="twice",
        ),
        pytest.param(
            ("v1.34.10", "v1.34.9"),
            1,
            "v1.34.9 is not above v1.34.10; list versions ascending, once each",
            id="numeric-order",
        ),
    ],
)
def test_catalogue_must_ascend(versions: tuple[str, ...], index: int, message: str) -> None:
    fleet = _catalogue(*versions)
    diagnostic = only(fleet.validate(), field=f"{CATALOGUE}[{index}]")
    assert diagnostic.message == message
    occurrence = versions[: index + 1].count(versions[index])
    where = position(fleet.text("fleet.yaml"), versions[index], occurrence, after="catalogue:")
    assert at(diagnostic) == ("fleet/fleet.yaml", *where)


@pytest.mark.parametrize(
    "versions",
    [
        pytest.param(("v1.34.2",), id="one"),
        pytest.param(("v1.34.9", "v1.34.10", "v1.35.0"), id="numeric-not-lexical"),
        pytest.param(("v1.33.6", "v1.34.2", "v1.35.0"), id="ascending"),
    ],
)
def test_ascending_catalogue_is_accepted(versions: tuple[str, ...]) -> None:
    assert_valid(_catalogue(*versions).validate())


def test_channel_version_must_be_in_the_catalogue() -> None:
    fleet = FleetBuilder.minimal().set("Fleet", None, "spec.versions.channels.rapid", "v1.35.1")
    diagnostic = only(fleet.validate(), field="spec.versions.channels.rapid")
    assert diagnostic.message == "channel rapid: v1.35.1 is not in the catalogue"
    assert at(diagnostic) == ("fleet/fleet.yaml", *position(fleet.text("fleet.yaml"), "rapid: v1.35.1", value=True))


def test_pinned_version_must_be_in_the_catalogue() -> None:
    fleet = FleetBuilder.minimal().set("Cluster", "eu-2", "spec.version", "v1.34.3")
    diagnostic = only(fleet.validate(), field="spec.version")
    assert diagnostic.message == "v1.34.3 is not in the fleet's version catalogue"
    assert at(diagnostic) == (
        "fleet/clusters.yaml",
        *position(fleet.text("clusters.yaml"), "version: v1.34.3", value=True),
    )


@pytest.mark.parametrize(
    ("versions", "missing"),
    [
        pytest.param(("v1.32.5", "v1.34.2"), ["v1.33"], id="one-gap"),
        pytest.param(("v1.31.0", "v1.34.2", "v1.35.0"), ["v1.32", "v1.33"], id="two-gaps"),
    ],
)
def test_chained_upgrades_need_every_minor(versions: tuple[str, ...], missing: list[str]) -> None:
    result = _catalogue(*versions, chained=True).validate()
    messages = [d.message for d in result.diagnostics if d.field == CATALOGUE]
    assert messages == [
        f"no version for {minor}; chained upgrades need one for every minor (CAPI webhook)" for minor in missing
    ]


def test_gaps_are_allowed_without_chained_upgrades() -> None:
    assert_valid(_catalogue("v1.32.5", "v1.34.2", chained=False).validate())


def test_chained_upgrades_with_every_minor_are_accepted() -> None:
    assert_valid(_catalogue("v1.32.5", "v1.33.1", "v1.33.6", "v1.34.2", chained=True).validate())


@pytest.mark.parametrize(
    ("version", "position_in_catalogue"),
    [
        pytest.param("v1.30.4", 0, id="too-old"),
        pytest.param("v1.37.0", 2, id="too-new"),
    ],
)
def test_versions_capi_does_not_support_are_a_warning_only(version: str, position_in_catalogue: int) -> None:
    versions = ["v1.34.2", "v1.35.0"]
    versions.insert(position_in_catalogue, version)
    result = _catalogue(*versions).validate()
    assert result.ok
    [warning] = result.diagnostics
    assert warning.severity is Severity.WARNING
    assert warning.field == f"{CATALOGUE}[{position_in_catalogue}]"
    assert warning.message == f"{version} is outside the workload versions CAPI v1.14 supports (v1.31–v1.36)"
    assert str(warning).startswith(f"{warning.location}: warning: {CATALOGUE}")


@pytest.mark.parametrize("version", ["v1.31.0", "v1.36.9"])
def test_versions_at_the_edges_of_the_supported_range_give_no_warning(version: str) -> None:
    result = _catalogue(version).validate()
    assert result.diagnostics == []
