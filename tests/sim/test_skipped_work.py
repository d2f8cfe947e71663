"""The simulation skips passes that would change nothing, and never one that would.

Shortcuts keep a 1,000-cluster run fast: the topology controller skips its desired-state pass while what that
pass reads is unchanged; a controller's pass is skipped while its object is as it left it and the time it asked to
run again has not come; a Machine's summary for its owners is read once per version of its conditions. Each test
here breaks what a wrong shortcut would break.
"""

from __future__ import annotations

from typing import Any

import pytest

from fleetc.core.keys import ObjectKey
from fleetc.runtime.manager import DONE, Result
from fleetc.sim import machines
from fleetc.sim.context import SettledFilter
from fleetc.sim.machines import summary_of
from tests.sim.support import Plane, manifests, small_fleet


def _settled_plane() -> Plane:
    plane = Plane()
    plane.apply(manifests(small_fleet("eu-1")))
    assert plane.run(plane.settled("eu-1"), hours=1)
    return plane


def test_the_topology_restores_a_machine_deployment_edited_behind_its_back() -> None:
    plane = _settled_plane()
    plane.run(hours=0.5)  # long settled: the topology's last passes skipped their desired state
    deployment_key = ObjectKey.of(plane.one("MachineDeployment", cluster="eu-1"))
    plane.store.edit(deployment_key, lambda deployment: deployment["spec"].update(replicas=5))
    assert plane.store.get(deployment_key)["spec"]["replicas"] == 5

    assert plane.run(lambda: plane.store.get(deployment_key)["spec"]["replicas"] == 3, hours=0.1)
    assert plane.run(plane.settled("eu-1"), hours=1)
    assert len(plane.machines("eu-1", control_plane=False)) == 3


def test_the_topology_restores_a_control_plane_version_edited_behind_its_back() -> None:
    plane = _settled_plane()
    plane.run(hours=0.5)
    kcp_key = ObjectKey.of(plane.kcp("eu-1"))
    wanted = plane.store.get(kcp_key)["spec"]["version"]
    plane.store.edit(kcp_key, lambda kcp: kcp["spec"].update(version="v1.33.0"))

    assert plane.run(lambda: plane.store.get(kcp_key)["spec"]["version"] == wanted, hours=0.1)


def test_a_settled_pass_that_asked_to_run_again_is_skipped_only_until_then() -> None:
    plane = _settled_plane()
    gate = SettledFilter(plane.plane.context)
    machine = plane.machines("eu-1")[0]
    machine_key = ObjectKey.of(machine)

    gate.settle(machine_key, Result(requeue_after=10.0))
    assert gate.settled(machine_key, machine)
    assert gate.rest(machine_key) == Result(requeue_after=10.0)  # the skipped pass asks for the timer again
    plane.clock.wait_until(plane.clock.now() + 4.0)
    assert gate.settled(machine_key, machine)
    assert gate.rest(machine_key) == Result(requeue_after=6.0)
    plane.clock.wait_until(plane.clock.now() + 6.0)
    assert not gate.settled(machine_key, machine)
    assert gate.rest(machine_key) == DONE


def test_a_settled_pass_without_a_requeue_stays_settled_until_its_object_changes() -> None:
    plane = _settled_plane()
    gate = SettledFilter(plane.plane.context)
    machine = plane.machines("eu-1")[0]
    machine_key = ObjectKey.of(machine)

    gate.settle(machine_key, DONE)
    plane.clock.wait_until(plane.clock.now() + 3600.0)
    assert gate.settled(machine_key, machine)
    changed = {**machine, "metadata": {**machine["metadata"], "resourceVersion": "changed"}}
    assert not gate.settled(machine_key, changed)


def test_a_machine_summary_follows_its_conditions_and_survives_the_memo_starting_afresh(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plane = _settled_plane()
    machine = plane.machines("eu-1")[0]
    assert _ready(machine) == "True"

    monkeypatch.setattr(machines, "SUMMARIES_KEPT", 1)
    conditions = [
        {**c, "status": "False", "reason": "NotReady"} if c["type"] == "Ready" else c
        for c in machine["status"]["conditions"]
    ]
    changed = {**machine, "status": {**machine["status"], "conditions": conditions}}
    assert _ready(changed) == "False"
    assert _ready(machine) == "True"


def _ready(machine: dict[str, Any]) -> str | None:
    ready = summary_of(machine).ready
    return None if ready is None else str(ready["status"])
