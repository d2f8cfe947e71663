"""The simulation skips passes that would change nothing, and never one that would.

Shortcuts keep a 1,000-cluster run fast: the topology controller skips its desired-state pass while what that
pass reads is unchanged; a controller's pass is skipped while its object is as it left it and the time it asked to
run again has not come, and such a pass is not even queued when the controller's own write would queue it; a
Machine's summary for its owners is read once per version of its conditions. Each test here breaks what a wrong
shortcut would break.
"""

from __future__ import annotations

from typing import Any

import pytest

from fleetc.core.keys import Manifest, ObjectKey
from fleetc.runtime.manager import DONE, Result
from fleetc.sim import Faults, machines
from fleetc.sim.context import SettledFilter
from fleetc.sim.faults import BlockedDrain, FailingPool, NodeFailure, StuckVolumes
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


POOLS = {"general": {"size": "large", "replicas": 3}, "batch": {"size": "large", "replicas": 2}}


def _timeline(faults: Faults, *, absorb_own_writes: bool) -> tuple[list[tuple[float, str, str, str, Manifest]], int]:
    """Every event of two clusters created and upgraded under ``faults`` (without resourceVersions: those count
    writes), and how many reconciles it took."""
    plane = Plane(faults=faults, record=True, absorb_own_writes=absorb_own_writes)
    plane.apply(manifests(small_fleet("eu-1", "eu-2", workers=POOLS)))
    plane.run(hours=1)
    plane.apply(manifests(small_fleet("eu-1", "eu-2", version="v1.35.0", workers=POOLS)))
    plane.run(hours=3)
    events: list[tuple[float, str, str, str, Manifest]] = []
    for at, event in plane.events:
        metadata = {k: v for k, v in event.object["metadata"].items() if k != "resourceVersion"}
        events.append((at, event.type, event.key.kind, event.key.name, {**event.object, "metadata": metadata}))
    return events, plane.manager.stats.reconciles


@pytest.mark.parametrize(
    "faults",
    [
        Faults(),
        Faults(
            node_failures=[NodeFailure(cluster="eu-1", pool="control-plane", version="v1.34.2", after=30, machines=1)]
        ),
        Faults(
            stuck_volumes=[StuckVolumes(cluster="eu-1", pool="general")],
            node_failures=[NodeFailure(cluster="eu-1", pool="general", after=1800, machines=1)],
        ),
        Faults(blocked_drains=[BlockedDrain(cluster="eu-2", pool="batch", machines=1)]),
        Faults(failing_pools=[FailingPool(cluster="eu-1", pool="general", on_upgrade=True)]),
    ],
    ids=["no-faults", "control-plane-node-fails", "stuck-volumes-and-node-failure", "blocked-drain", "failing-pool"],
)
def test_passes_absorbed_after_a_controllers_own_write_change_no_event(faults: Faults) -> None:
    """The same writes, in the same order, at the same times, whether or not the manager queues the passes a
    controller's own write calls for; a quarter of the reconciles fewer."""
    every_pass, queued_all = _timeline(faults, absorb_own_writes=False)
    absorbed, queued_fewer = _timeline(faults, absorb_own_writes=True)
    assert absorbed == every_pass
    assert queued_fewer < 0.8 * queued_all
