"""Version lifecycle (``spec.versions.lifecycle``): a deprecated version is a warning where a channel or a pinned
cluster runs it, an expired one an error; ``--now`` makes the check reproducible."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from fleetc import Severity, ValidationResult, validate_tree
from fleetc.cli.main import cli
from tests.builders import FleetBuilder, position

NOW = datetime(2027, 1, 15, tzinfo=UTC)
LIFECYCLE = "spec.versions.lifecycle"


def _fleet(**lifecycle: dict[str, str]) -> FleetBuilder:
    return FleetBuilder.minimal().set("Fleet", None, LIFECYCLE, lifecycle)


def _validate(fleet: FleetBuilder, now: datetime = NOW) -> ValidationResult:
    return validate_tree(fleet.tree(), now=now)


def test_a_channel_on_a_deprecated_version_is_a_warning_at_the_channel_counting_its_clusters() -> None:
    fleet = _fleet(**{"v1.34.2": {"classification": "deprecated", "expires": "2027-03-01"}})

    result = _validate(fleet)

    (finding,) = result.diagnostics
    assert finding.severity is Severity.WARNING
    assert finding.field == "spec.versions.channels.stable"
    assert finding.message == (
        "channel stable: v1.34.2 is deprecated (expires 2027-03-01); plan the upgrade; 2 clusters follow it"
    )
    assert (finding.location.line, finding.location.column) == position(
        fleet.text("fleet.yaml"), "stable: v1.34.2", value=True
    )
    assert result.ok


def test_an_expired_version_is_an_error_for_the_channel_and_for_a_cluster_pinning_it() -> None:
    fleet = _fleet(**{"v1.33.6": {"classification": "deprecated", "expires": "2027-01-15"}})
    fleet.set("Cluster", "eu-2", "spec.version", "v1.33.6")

    result = _validate(fleet)

    (finding,) = result.diagnostics
    assert (finding.severity, finding.field, finding.location.path) == (
        Severity.ERROR,
        "spec.version",
        "fleet/clusters.yaml",
    )
    assert finding.message == "v1.33.6 expired on 2027-01-15; move to a supported version"
    assert not result.ok


def test_the_day_before_expiry_the_same_fleet_only_warns() -> None:
    fleet = _fleet(**{"v1.33.6": {"classification": "deprecated", "expires": "2027-01-15"}})
    fleet.set("Cluster", "eu-2", "spec.version", "v1.33.6")

    result = _validate(fleet, datetime(2027, 1, 14, tzinfo=UTC))

    assert [d.severity for d in result.diagnostics] == [Severity.WARNING]
    assert result.ok


def test_preview_and_supported_versions_are_not_findings_and_unused_expired_ones_neither() -> None:
    fleet = _fleet(
        **{
            "v1.33.6": {"classification": "deprecated", "expires": "2026-06-01"},
            "v1.34.2": {"classification": "supported", "expires": "2027-10-01"},
            "v1.35.0": {"classification": "preview"},
        }
    )

    assert _validate(fleet).diagnostics == []


def test_a_lifecycle_entry_for_a_version_outside_the_catalogue_is_a_located_error() -> None:
    fleet = _fleet(**{"v1.36.0": {"classification": "preview"}})

    (finding,) = _validate(fleet).diagnostics

    assert (finding.field, finding.message) == ("spec.versions.lifecycle.v1.36.0", "v1.36.0 is not in the catalogue")
    assert finding.location.line == position(fleet.text("fleet.yaml"), "v1.36.0:")[0]


def test_a_malformed_expiry_date_is_a_located_error() -> None:
    fleet = _fleet(**{"v1.34.2": {"expires": "next year"}})

    (finding,) = _validate(fleet).diagnostics

    assert finding.field == "spec.versions.lifecycle.v1.34.2.expires"
    assert "'next year' is not a date" in finding.message


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), prog_name="fleetc")
    return result.exit_code, result.output


def test_validate_now_makes_the_expiry_check_reproducible(tmp_path: Path) -> None:
    fleet = _fleet(**{"v1.34.2": {"classification": "deprecated", "expires": "2027-03-01"}})
    root = fleet.write(tmp_path / "fleet")

    before, warned = _cli("validate", str(root), "--now", "2027-02-28")
    after, failed = _cli("validate", str(root), "--now", "2027-03-01T00:00:00Z")

    assert before == 0 and "warning" in warned and "is deprecated" in warned
    assert after == 1 and "v1.34.2 expired on 2027-03-01" in failed


def test_a_now_that_is_not_a_date_is_a_usage_error(tmp_path: Path) -> None:
    root = FleetBuilder.minimal().write(tmp_path / "fleet")

    code, output = _cli("validate", str(root), "--now", "tomorrow")

    assert code == 2
    assert "'tomorrow' is not a date" in output
