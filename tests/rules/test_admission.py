"""CAPI's admission rules on the spec: what CAPI's webhooks would reject is an error before merge.

Reserved and dotted variable names, a class variable its provider already declares, a nodeStartupTimeout
under 30 s, a wave that lets no cluster through; a control-plane deadline shorter than the boot time the
class allows is a warning.
"""

from __future__ import annotations

import pytest

from tests.builders import VSPHERE_DOC, FleetBuilder, assert_valid, at, only, position


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        pytest.param("builtin", "'builtin' is a reserved variable name", id="builtin"),
        pytest.param("image.repository", "may not contain '.'", id="dotted"),
    ],
)
def test_reserved_variable_names_are_rejected_at_the_name(name: str, fragment: str) -> None:
    fleet = FleetBuilder.minimal().set("ClusterClass", "standard", ["spec", "variables", name], {"type": "string"})

    diagnostic = only(fleet.validate(), fragment=fragment)

    assert diagnostic.field == f"spec.variables.{name}"
    assert at(diagnostic) == ("fleet/classes.yaml", *position(fleet.text("classes.yaml"), f"{name}:"))


def test_a_class_variable_may_not_repeat_one_its_provider_declares() -> None:
    fleet = FleetBuilder.minimal().add("providers.yaml", VSPHERE_DOC)
    fleet.set("Cluster", "eu-2", "spec.provider", "vsphere-dc1")
    fleet.set("Cluster", "eu-2", "spec.controlPlaneEndpoint", {"host": "10.0.0.10"})
    fleet.set("ClusterClass", "standard", "spec.variables.controlPlaneEndpoint", {"type": "string"})

    diagnostic = only(fleet.validate(), field="spec.variables.controlPlaneEndpoint")

    assert "declared by every vsphere class (provider vsphere-dc1 uses it)" in diagnostic.message


def test_the_same_variable_is_fine_on_a_provider_that_declares_none() -> None:
    fleet = FleetBuilder.minimal()
    fleet.set("ClusterClass", "standard", "spec.variables.controlPlaneEndpoint", {"type": "string"})

    assert_valid(fleet.validate())


@pytest.mark.parametrize(
    ("path", "value", "valid"),
    [
        pytest.param("spec.healthCheck.nodeStartupTimeout", "29s", False, id="class-29s"),
        pytest.param("spec.healthCheck.nodeStartupTimeout", "30s", True, id="class-30s"),
        pytest.param("spec.healthCheck.nodeStartupTimeout", "0s", True, id="class-off"),
        pytest.param("spec.controlPlane.healthCheck.nodeStartupTimeout", "10s", False, id="control-plane"),
        pytest.param("spec.workers.general.healthCheck.nodeStartupTimeout", "5s", False, id="pool"),
    ],
)
def test_node_startup_timeout_is_off_or_at_least_30s(path: str, value: str, valid: bool) -> None:
    fleet = FleetBuilder.minimal().set("ClusterClass", "standard", path, value)
    fleet.set("Fleet", "test", ["spec", "rollout", "waves", 0, "controlPlaneDeadline"], "1h")
    fleet.set("Fleet", "test", ["spec", "rollout", "waves", 1, "controlPlaneDeadline"], "1h")

    if valid:
        assert_valid(fleet.validate())
        return
    diagnostic = only(fleet.validate(), field=path)
    assert "below CAPI's minimum of 30s" in diagnostic.message
    assert at(diagnostic)[1] == position(fleet.text("classes.yaml"), f"nodeStartupTimeout: {value}")[0]


@pytest.mark.parametrize("value", [0, "0%"])
def test_max_concurrent_zero_is_an_error(value: int | str) -> None:
    fleet = FleetBuilder.minimal().set("Fleet", "test", ["spec", "rollout", "waves", 0, "maxConcurrent"], value)

    diagnostic = only(fleet.validate(), field="spec.rollout.waves[0].maxConcurrent")

    assert diagnostic.message == f"maxConcurrent {value} lets no cluster of wave canary through"


def test_a_deadline_shorter_than_the_boot_time_the_class_allows_is_a_warning() -> None:
    fleet = FleetBuilder.minimal().set("ClusterClass", "standard", "spec.healthCheck.nodeStartupTimeout", "20m")
    fleet.set("Fleet", "test", ["spec", "rollout", "waves", 0, "controlPlaneDeadline"], "15m")

    result = fleet.validate()

    assert result.ok
    [warning] = [d for d in result.diagnostics if d.field == "spec.rollout.waves[0].controlPlaneDeadline"]
    assert warning.severity.value == "warning"
    assert "15m is shorter than the 20m class standard gives" in warning.message
