"""Machine template fields CAPI changes in place (``fleetc.sim.in_place``): they never make a MachineSet outdated,
and they are copied down as they are, removals included."""

from __future__ import annotations

from typing import Any

from fleetc.sim.in_place import in_place_changed, rollout_part, with_in_place
from fleetc.sim.machinedeployment import template_matches

SPEC: dict[str, Any] = {
    "bootstrap": {"configRef": {"name": "b"}},
    "clusterName": "eu-1",
    "infrastructureRef": {"apiGroup": "x", "kind": "DevMachineTemplate", "name": "m"},
    "version": "v1.34.2",
}


def _owner(kind: str, **spec: Any) -> dict[str, Any]:
    return {"kind": kind, "metadata": {"name": "x"}, "spec": {"template": {"spec": {**SPEC, **spec}}}}


def test_a_machine_set_differing_only_in_fields_changed_in_place_runs_its_deployment_s_template() -> None:
    machine_set = _owner("MachineSet", deletion={"nodeDrainTimeoutSeconds": 300}, minReadySeconds=5)
    deployment = _owner("MachineDeployment", deletion={"nodeDrainTimeoutSeconds": 600}, taints=[{"key": "a"}])

    assert template_matches(machine_set, deployment)
    assert not template_matches(machine_set, _owner("MachineDeployment", version="v1.35.0"))


def test_fields_are_copied_down_as_the_source_has_them_removals_included() -> None:
    machine = {**SPEC, "deletion": {"nodeDrainTimeoutSeconds": 300}, "providerID": "p"}
    template = {**SPEC, "minReadySeconds": 10}

    assert in_place_changed(machine, template)
    synced = with_in_place(machine, template)
    assert synced == {**SPEC, "minReadySeconds": 10, "providerID": "p"}
    assert not in_place_changed(synced, template)
    assert rollout_part(synced) == {**SPEC, "providerID": "p"}
    assert not in_place_changed(machine, {**template, "deletion": machine["deletion"]}, ("deletion",))
