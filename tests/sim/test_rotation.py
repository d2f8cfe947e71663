"""Machine rotation on the simulated plane: a ``rotateAfter`` that has passed replaces every control-plane and
MachineDeployment Machine created before it, as CAPI's KCP and MachineDeployment ``rollout.after`` do."""

from __future__ import annotations

from fleetc.contract.timestamps import timestamp
from tests.sim.support import Plane, manifests, small_fleet


def test_a_passed_rotate_after_replaces_every_machine_created_before_it() -> None:
    plane = Plane()
    fleet = small_fleet("eu-1", control_plane=3)
    plane.apply(manifests(fleet))
    assert plane.run(plane.settled("eu-1"), hours=3)
    before = {m["metadata"]["name"] for m in plane.machines("eu-1")}

    after = timestamp(plane.clock.now())
    fleet.set("Fleet", None, "spec.machineRotation", {"rotateAfter": after})
    plane.apply(manifests(fleet))
    assert plane.run(
        lambda: plane.settled("eu-1")() and not before & {m["metadata"]["name"] for m in plane.machines("eu-1")},
        hours=6,
    )

    assert len(plane.machines("eu-1", control_plane=True)) == 3
    assert len(plane.machines("eu-1", control_plane=False)) == 3
    assert plane.kcp("eu-1")["spec"]["rollout"]["after"] == after


def test_a_rotate_after_in_the_future_replaces_nothing_yet() -> None:
    plane = Plane()
    fleet = small_fleet("eu-1", control_plane=1)
    plane.apply(manifests(fleet))
    assert plane.run(plane.settled("eu-1"), hours=3)
    before = {m["metadata"]["name"] for m in plane.machines("eu-1")}

    fleet.set("Fleet", None, "spec.machineRotation", {"rotateAfter": timestamp(plane.clock.now() + 30 * 24 * 3600)})
    plane.apply(manifests(fleet))
    plane.run(hours=1)

    assert {m["metadata"]["name"] for m in plane.machines("eu-1")} == before
