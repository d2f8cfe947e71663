"""Machine rotation policy (``machineRotation`` on the Fleet and on a class): field limits and date warnings."""

from __future__ import annotations

from datetime import UTC, datetime

from fleetc import Severity, ValidationResult, validate_tree
from tests.builders import FleetBuilder, position

NOW = datetime(2027, 1, 15, tzinfo=UTC)


def _validate(fleet: FleetBuilder) -> ValidationResult:
    return validate_tree(fleet.tree(), now=NOW)


def _fleet_policy(**policy: object) -> FleetBuilder:
    return FleetBuilder.minimal().set("Fleet", None, "spec.machineRotation", policy)


def test_a_recent_rotation_date_with_a_max_age_is_quiet() -> None:
    assert _validate(_fleet_policy(rotateAfter="2027-01-10", maxMachineAgeDays=90)).diagnostics == []


def test_a_rotation_date_in_the_future_warns_that_it_bypasses_the_waves() -> None:
    fleet = _fleet_policy(rotateAfter="2027-02-01")

    (finding,) = _validate(fleet).diagnostics

    assert finding.severity is Severity.WARNING
    assert finding.field == "spec.machineRotation.rotateAfter"
    assert "in the future" in finding.message and "outside the waves" in finding.message
    assert finding.location.line == position(fleet.text("fleet.yaml"), "rotateAfter")[0]


def test_an_overdue_rotation_warns_with_the_due_date() -> None:
    (finding,) = _validate(_fleet_policy(rotateAfter="2026-09-01", maxMachineAgeDays=90)).diagnostics

    assert finding.message == (
        "machines may be older than 90 days: the rotation was due on 2026-11-30; set rotateAfter to a recent date"
    )


def test_a_max_age_without_a_date_warns_that_nothing_rotates() -> None:
    (finding,) = _validate(_fleet_policy(maxMachineAgeDays=30)).diagnostics

    assert finding.field == "spec.machineRotation.maxMachineAgeDays"


def test_a_class_date_overrides_the_fleets_and_the_warning_points_at_the_class() -> None:
    fleet = _fleet_policy(rotateAfter="2026-09-01", maxMachineAgeDays=90)
    fleet.set("ClusterClass", "standard", "spec.machineRotation", {"rotateAfter": "2026-08-01"})

    (finding,) = _validate(fleet).diagnostics

    assert (finding.location.path, finding.field) == ("fleet/classes.yaml", "spec.machineRotation.rotateAfter")
    assert "due on 2026-10-30" in finding.message


def test_certificate_renewal_below_capis_minimum_of_7_days_is_a_located_error() -> None:
    fleet = _fleet_policy(renewCertificatesDaysBeforeExpiry=3)

    (finding,) = _validate(fleet).diagnostics

    assert finding.severity is Severity.ERROR
    assert finding.field == "spec.machineRotation.renewCertificatesDaysBeforeExpiry"
    assert finding.location.line == position(fleet.text("fleet.yaml"), "renewCertificatesDaysBeforeExpiry")[0]
