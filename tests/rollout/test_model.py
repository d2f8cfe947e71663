"""Building a rollout from a compiled fleet, submitting it to a store, and reading it back."""

from __future__ import annotations

from typing import Any

from fleetc.core.keys import ObjectKey
from fleetc.render.compile import compile_fleet
from fleetc.render.rendered import RenderedObject, RenderedSet, WaveClusters
from fleetc.rollout import ClusterState, Phase, approve, plan_rollout, read_rollout, submit
from fleetc.rollout.desired import rollout_objects
from fleetc.rollout.entries import ClusterEntry
from fleetc.rollout.model import CLUSTER_ROLLOUT, GROUP, ClusterRollout, FleetRevision, FleetRollout
from fleetc.schema.fleet import Wave
from tests.render.support import EXAMPLE, load_fleet
from tests.rollout.support import NAMESPACE, Harness, cluster_manifest


def example_plan() -> Any:
    return plan_rollout(compile_fleet(load_fleet(EXAMPLE)))


def test_the_example_fleet_becomes_three_waves_with_resolved_amounts() -> None:
    plan = example_plan()
    assert [(w.name, w.size, w.max_concurrent, w.failure_budget) for w in plan.waves] == [
        ("canary", 2, 1, 0),
        ("early", 5, 2, 0),
        ("broad", 8, 2, 0),  # 25% and 10% of 8, rounded down (at least one in flight)
    ]
    assert [(w.soak_seconds, w.control_plane_deadline_seconds) for w in plan.waves] == [
        (1800, 1200),
        (3600, 1800),
        (7200, 2700),
    ]
    assert [c.name for c in plan.clusters][:2] == ["docker-canary-1", "sim-canary-1"]
    assert all(c.objects[-1]["kind"] == "Cluster" for c in plan.clusters)
    kinds = [m["kind"] for m in plan.prerequisites]
    assert kinds[0] == "Namespace" and kinds[-7:] == ["ClusterClass"] * 7
    assert "Cluster" not in kinds
    assert plan.revision == example_plan().revision


def _rendered(size: int, budget: str | int, concurrent: str | int) -> RenderedSet:
    wave = Wave.model_validate(
        {"name": "broad", "selector": {}, "maxConcurrent": concurrent, "failureBudget": budget, "soak": "1h"}
    )
    names = tuple(f"c{i:02d}" for i in range(size))
    objects = {}
    for name in names:
        manifest = cluster_manifest(name)
        objects[ObjectKey.of(manifest)] = RenderedObject(manifest, f"clusters/{name}")
    return RenderedSet("acme", NAMESPACE, objects, (WaveClusters(wave, names, dict.fromkeys(names, NAMESPACE)),))


def test_percentages_resolve_against_the_wave_size() -> None:
    (wave,) = plan_rollout(_rendered(20, "10%", "25%")).waves
    assert (wave.failure_budget, wave.max_concurrent, wave.soak_seconds) == (2, 5, 3600)
    (small,) = plan_rollout(_rendered(3, "10%", "10%")).waves
    assert (small.failure_budget, small.max_concurrent) == (0, 1)


def test_a_ten_percent_budget_of_twenty_clusters_tolerates_two_failures() -> None:
    plan = plan_rollout(_rendered(20, "10%", "25%"), revision="r1")
    harness = Harness.start(fake={"stuck": {"c04", "c13"}})
    for cluster in plan.clusters:
        harness.fake.seed(cluster_manifest(cluster.name, "v1.34.2"))
    view = harness.run(submit(harness.store, plan))
    assert view.phase is Phase.COMPLETE
    assert [c.name for c in view.clusters if c.state is ClusterState.FAILED] == ["c04", "c13"]


def test_creating_the_example_fleet_completes_wave_by_wave() -> None:
    plan = example_plan()
    harness = Harness.start()
    key = submit(harness.store, plan)
    assert harness.run(key, hours=24).phase is Phase.AWAITING_APPROVAL  # the example's broad wave asks first
    approve(harness.store, key, "broad", by="test", at=harness.clock.now())
    view = harness.run(key, hours=24)
    assert view.phase is Phase.COMPLETE
    assert {c.state for c in view.clusters} == {ClusterState.SUCCEEDED}
    assert harness.in_flight_peaks == {"canary": 1, "early": 2, "broad": 2}
    first_cluster = next(i for i, (_, kind, _) in enumerate(harness.applied) if kind == "Cluster")
    assert {kind for _, kind, _ in harness.applied[:first_cluster]} >= {"Namespace", "ClusterClass"}
    assert harness.cluster_applies() == [c.name for c in plan.clusters]


def test_the_example_plan_carries_approvals_windows_and_receivers() -> None:
    plan = example_plan()
    assert [w.name for w in plan.waves if w.require_approval] == ["broad"]
    windows = {c.name: c.window.time_zone if c.window else None for c in plan.clusters}
    assert windows["sim-canary-1"] is None and windows["us-qa-1"] is None  # label window: production only
    assert windows["us-prod-1"] == "America/New_York" and windows["eu-ml-1"] == "Europe/Berlin"
    assert plan.notifications is not None and [r.name for r in plan.notifications.receivers] == [
        "platform-team",
        "change-log",
    ]


def test_submit_is_idempotent_and_drops_clusters_that_left_the_fleet() -> None:
    harness = Harness.start()
    plan = plan_rollout(_rendered(4, 0, 1), revision="r1")
    submit(harness.store, plan)
    versions = {str(k): harness.store.get(k)["metadata"]["resourceVersion"] for k in list(harness.store.keys())}
    submit(harness.store, plan)
    assert {str(k): harness.store.get(k)["metadata"]["resourceVersion"] for k in list(harness.store.keys())} == versions

    smaller = plan_rollout(_rendered(3, 0, 1), revision="r2")
    submit(harness.store, smaller)
    left = [ClusterEntry(o).name for o in harness.store.list(GROUP, CLUSTER_ROLLOUT, NAMESPACE)]
    assert left == ["c00", "c01", "c02"]
    assert harness.store.get(plan.key)["spec"]["revision"] == "r2"


def test_cluster_rollouts_are_owned_by_the_fleet_rollout() -> None:
    harness = Harness.start()
    plan = plan_rollout(_rendered(2, 0, 1), revision="r1")
    key = submit(harness.store, plan)
    owner = harness.store.get(key)["metadata"]["uid"]
    _, _, clusters = rollout_objects(plan, owner_uid=owner)
    stored = harness.store.get(ObjectKey.of(clusters[0]))
    assert stored["metadata"]["ownerReferences"][0]["uid"] == owner
    harness.store.delete(key)
    assert harness.store.list(GROUP, CLUSTER_ROLLOUT, NAMESPACE) == []


def test_a_rollout_not_yet_reconciled_reads_as_pending() -> None:
    harness = Harness.start()
    plan = plan_rollout(_rendered(2, 0, 1), revision="r1")
    key = submit(harness.store, plan)
    view = read_rollout(harness.store, key)
    assert view is not None
    assert [c.state for c in view.clusters] == [ClusterState.PENDING] * 2
    assert view.to_dict()["waves"][0]["pending"] == 2
    assert read_rollout(harness.store, ObjectKey(GROUP, "FleetRollout", NAMESPACE, "other")) is None


def test_the_rollout_kinds_read_back_as_stored_and_describe_themselves_in_camel_case() -> None:
    rollout, revision, clusters = rollout_objects(example_plan(), owner_uid="uid-1")
    assert FleetRollout.model_validate(rollout).dump() == rollout
    assert FleetRevision.model_validate(revision).dump() == revision
    assert all(ClusterRollout.model_validate(c).dump() == c for c in clusters)
    schema = FleetRollout.model_json_schema(by_alias=True)
    wave = schema["$defs"]["WaveSpec"]["properties"]
    assert {"maxConcurrent", "soakSeconds", "controlPlaneDeadlineSeconds", "failureBudget"} <= set(wave)
    assert "soakUntil" in schema["$defs"]["RolloutStatus"]["properties"]
