"""Clusters that leave the spec, rolled out on the embedded plane (simulated CAPI, virtual time).

Policy (docs/spec.md, "Removing a cluster"): a removed cluster is orphaned (left running, its fleet label taken off,
an event in the timeline); one marked ``decommission: true`` when last applied is deleted in its wave, machines
first, only with ``allow_delete``; without it nothing at all is applied and the error names the clusters.
"""

from __future__ import annotations

import pytest

from fleetc.contract.vocabulary import CAPI_GROUP, CLUSTER_NAME_LABEL, CONTROL_PLANE_LABEL
from fleetc.core.errors import DeletionNotAllowedError
from fleetc.core.keys import ObjectKey
from fleetc.engine import local
from fleetc.render.compile import compile_fleet
from fleetc.render.names import FLEET_LABEL
from fleetc.rollout import RolloutPlan, RolloutView, plan_rollout
from tests.builders import FleetBuilder, cluster_doc

NAMESPACE = "fleet-clusters"


def removal_fleet(*removed: str, marked: tuple[str, ...] = (), clusters: int = 3) -> RolloutPlan:
    """The plan of a fleet of ``clusters`` clusters ``eu-1`` (canary), ``eu-2``…, without ``removed``, with
    ``marked`` ones marked for decommissioning."""
    docs = [
        cluster_doc(f"eu-{n}", **({"ring": "canary"} if n == 1 else {}), provider="local")
        for n in range(1, clusters + 1)
    ]
    builder = FleetBuilder.minimal()
    builder.files["clusters.yaml"] = [c for c in docs if c["metadata"]["name"] not in removed]
    for name in marked:
        builder.set("Cluster", name, "spec.decommission", True)
    result = builder.validate()
    assert result.fleet is not None, result.diagnostics
    return plan_rollout(compile_fleet(result.fleet))


def _cluster(plane: local.LocalPlane, name: str) -> ObjectKey:
    return ObjectKey(CAPI_GROUP, "Cluster", NAMESPACE, name)


def _machines(plane: local.LocalPlane, name: str) -> list[str]:
    found = plane.store.list(CAPI_GROUP, "Machine", NAMESPACE, labels={CLUSTER_NAME_LABEL: name})
    return [m["metadata"]["name"] for m in found]


def _counted(plane: local.LocalPlane, name: str) -> str:
    """``3 control-plane and 2 worker``, counted from the simulated Machines."""
    found = plane.store.list(CAPI_GROUP, "Machine", NAMESPACE, labels={CLUSTER_NAME_LABEL: name})
    control_plane = sum(1 for m in found if CONTROL_PLANE_LABEL in m["metadata"].get("labels", {}))
    return f"{control_plane} control-plane and {len(found) - control_plane} worker"


def _events(view: RolloutView, cluster: str) -> list[tuple[str, str]]:
    return [(e.type, e.message) for e in view.timeline if e.cluster == cluster]


@pytest.fixture
def plane() -> local.LocalPlane:
    plane = local.open_plane()
    view = local.roll_out(plane, removal_fleet())
    assert view.phase == "Complete"
    assert _machines(plane, "eu-3")
    return plane


def test_a_removed_cluster_is_orphaned_left_running_and_said_so_in_the_timeline(plane: local.LocalPlane) -> None:
    view = local.roll_out(plane, removal_fleet("eu-3"))

    assert view.phase == "Complete"
    live = plane.store.get(_cluster(plane, "eu-3"))
    assert "deletionTimestamp" not in live["metadata"]
    assert FLEET_LABEL not in live["metadata"]["labels"]
    assert _machines(plane, "eu-3")
    events = _events(view, "eu-3")
    assert (
        "ClusterOrphaned",
        f"orphaned: Cluster {NAMESPACE}/eu-3 left running, no longer managed by fleetc",
    ) in events
    assert not any(kind == "ClusterDeleting" for kind, _ in events)
    [entry] = [c for c in view.clusters if c.name == "eu-3"]
    assert (entry.wave, entry.state) == ("broad", "Succeeded")


def test_an_orphaned_cluster_is_not_reported_again_by_the_next_revision(plane: local.LocalPlane) -> None:
    local.roll_out(plane, removal_fleet("eu-3"))
    upgraded = removal_fleet("eu-3", "eu-2")

    view = local.roll_out(plane, upgraded)

    assert [c.name for c in view.clusters if c.name == "eu-3"] == []
    assert plane.store.find(_cluster(plane, "eu-3")) is not None


def test_removing_a_marked_cluster_without_allow_delete_applies_nothing_and_names_it(
    plane: local.LocalPlane,
) -> None:
    local.roll_out(plane, removal_fleet(marked=("eu-3",)))
    before = plane.store.snapshot()

    with pytest.raises(DeletionNotAllowedError) as refused:
        local.roll_out(plane, removal_fleet("eu-3"))

    message = str(refused.value)
    assert f"{NAMESPACE}/eu-3 ({_counted(plane, 'eu-3')} machines)" in message and "--allow-delete" in message
    assert "Nothing was applied" in message
    assert plane.store.snapshot() == before


def test_removing_a_marked_cluster_with_allow_delete_deletes_it_and_its_machines_in_its_wave(
    plane: local.LocalPlane,
) -> None:
    local.roll_out(plane, removal_fleet(marked=("eu-3",)))
    machines = _counted(plane, "eu-3")

    view = local.roll_out(plane, removal_fleet("eu-3"), allow_delete=True)

    assert view.phase == "Complete"
    assert plane.store.find(_cluster(plane, "eu-3")) is None
    assert _machines(plane, "eu-3") == []
    assert plane.store.find(_cluster(plane, "eu-2")) is not None
    kinds = [kind for kind, _ in _events(view, "eu-3")]
    assert kinds[0] == "ClusterDeleting" and kinds[-1] == "ClusterSucceeded"
    deleting = _events(view, "eu-3")[0][1]
    assert deleting == f"decommissioned: deleting Cluster {NAMESPACE}/eu-3 and its {machines} machines"
    [entry] = [c for c in view.clusters if c.name == "eu-3"]
    assert (entry.wave, entry.state) == ("broad", "Succeeded")
    assert entry.reason == f"Cluster deleted with its {machines} machines"


def test_a_resumed_apply_of_the_same_revision_keeps_the_deletion_record(plane: local.LocalPlane) -> None:
    local.roll_out(plane, removal_fleet(marked=("eu-3",)))
    first = local.roll_out(plane, removal_fleet("eu-3"), allow_delete=True)

    again = local.roll_out(plane, removal_fleet("eu-3"), allow_delete=True)

    assert again.phase == "Complete"
    assert _events(again, "eu-3") == _events(first, "eu-3")


def test_a_marked_cluster_still_in_the_spec_is_managed_as_usual(plane: local.LocalPlane) -> None:
    view = local.roll_out(plane, removal_fleet(marked=("eu-3",)))

    assert view.phase == "Complete"
    live = plane.store.get(_cluster(plane, "eu-3"))
    assert live["metadata"]["annotations"]["fleetc.io/decommission"] == "true"
    assert "deletionTimestamp" not in live["metadata"]
