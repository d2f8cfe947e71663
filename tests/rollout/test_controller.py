"""The rollout controller on the real store, manager and virtual clock, with a CAPI double writing fixture statuses.

What a rollout promises: waves in order with soak between them, never more than ``maxConcurrent`` clusters in flight,
a failing canary halts the rollout with later waves untouched, a failure budget, deadlines, pause/resume, resume
after a fix, resuming from a snapshot without applying anything twice, no version rollback, determinism.
"""

from __future__ import annotations

from fleetc.contract.timestamps import parse_timestamp
from fleetc.core.errors import Conflict, TerminalError
from fleetc.core.keys import Manifest, ObjectKey
from fleetc.rollout import ClusterState, Phase, RolloutView, pause, read_rollout, resume, settled
from fleetc.runtime.clock import EPOCH
from tests.rollout.support import NEW, OLD, Harness, WaveDef, make_plan

CANARY, EARLY, BROAD = (
    WaveDef("canary", 1, soak=1800, deadline=1200),
    WaveDef("early", 3, 2, soak=3600),
    WaveDef("broad", 6, 3),
)


def rolled(waves: tuple[WaveDef, ...] = (CANARY, EARLY, BROAD), **fake: set[str]) -> tuple[Harness, RolloutView]:
    """A seeded fleet at the old version rolled to the new one, run until it settles."""
    harness = Harness.start(fake=dict(fake))
    plan = make_plan(*waves)
    harness.seed(plan)
    return harness, harness.run(harness.submit(plan))


def seconds(stamp: str | None) -> float:
    assert stamp is not None
    return parse_timestamp(stamp) - EPOCH


def states(view: RolloutView) -> dict[str, ClusterState]:
    return {c.name: c.state for c in view.clusters}


def test_waves_run_in_order_with_the_soak_between_them() -> None:
    harness, view = rolled()
    assert view.phase is Phase.COMPLETE
    assert set(states(view).values()) == {ClusterState.SUCCEEDED}
    for earlier, later in ((CANARY, EARLY), (EARLY, BROAD)):
        done = max(seconds(c.finished_at) for c in view.clusters if c.wave == earlier.name)
        started = min(seconds(c.started_at) for c in view.clusters if c.wave == later.name)
        assert started == done + earlier.soak
    assert harness.cluster_applies() == [name for wave in (CANARY, EARLY, BROAD) for name in wave.clusters()]
    assert all(harness.live_version(c.name) == NEW for c in view.clusters)
    wave_events = [(e.type, e.wave) for e in view.timeline if not e.cluster and e.type.startswith(("Wave", "Soak"))]
    assert wave_events == [
        ("WaveStarted", "canary"),
        ("WaveCompleted", "canary"),
        ("SoakStarted", "canary"),
        ("SoakCompleted", "canary"),
        ("WaveStarted", "early"),
        ("WaveCompleted", "early"),
        ("SoakStarted", "early"),
        ("SoakCompleted", "early"),
        ("WaveStarted", "broad"),
    ]
    assert view.timeline[-1].type == "Completed"


def test_class_revisions_are_applied_before_any_cluster() -> None:
    harness, _ = rolled()
    kinds = [kind for _, kind, _ in harness.applied]
    assert kinds[:2] == ["Namespace", "ClusterClass"]
    assert kinds[2:] == ["Cluster"] * 10


def test_max_concurrent_is_never_exceeded() -> None:
    harness, view = rolled((WaveDef("broad", 7, max_concurrent=3),))
    assert view.phase is Phase.COMPLETE
    assert harness.in_flight_peaks == {"broad": 3}


def test_a_failing_canary_halts_the_rollout_and_later_waves_are_never_touched() -> None:
    harness, view = rolled(stuck={"canary-01"})
    assert view.halted
    assert view.halt_reason == (
        "wave canary: 1 of 1 clusters failed, over its failure budget of 0: cluster canary-01: "
        "Machine canary-01-7fvxk-zr6gm: HealthCheckSucceeded=False (NodeStartupTimeout): "
        "Health check failed: Node failed to report startup in 10m0s"
    )
    assert harness.cluster_applies() == ["canary-01"]
    later = [c for c in view.clusters if c.wave != "canary"]
    assert {c.state for c in later} == {ClusterState.PENDING}
    for cluster in later:
        live = harness.store.get(ObjectKey("cluster.x-k8s.io", "Cluster", cluster.namespace, cluster.name))
        assert (live["spec"]["topology"]["version"], live["metadata"]["generation"]) == (OLD, 1)


def test_a_control_plane_not_healthy_by_the_deadline_fails_its_cluster() -> None:
    _, view = rolled(silent={"canary-01"})
    canary = view.clusters[0]
    assert canary.state is ClusterState.FAILED
    assert seconds(canary.finished_at) == CANARY.deadline
    assert canary.reason == (
        "cluster canary-01: control plane not healthy within 20m: Machine canary-01-7fvxk-q2wjf: "
        "NodeHealthy=Unknown (InspectionFailed): Waiting for DevMachine to report spec.providerID"
    )
    assert view.halted and view.halt_reason is not None and canary.reason in view.halt_reason


def test_a_cluster_whose_workers_stop_progressing_fails_at_its_progress_deadline() -> None:
    """Control plane healthy, workers never done, no CAPI failure signal: it must not stay in flight for ever."""
    _, view = rolled(stalled={"canary-01"})
    canary = view.clusters[0]
    assert canary.state is ClusterState.FAILED and view.halted
    assert canary.reason.startswith("cluster canary-01: no progress for 40m: ")
    assert seconds(canary.finished_at) == 300 + 2 * CANARY.deadline  # reached the stalled moment 5m in


def test_clusters_in_flight_when_the_rollout_halts_are_left_to_finish() -> None:
    harness, view = rolled((WaveDef("early", 4, max_concurrent=2),), stuck={"early-01"})
    assert view.halted
    assert states(view)["early-02"] is ClusterState.IN_FLIGHT
    harness.manager.run(lambda: False, deadline=harness.clock.now() + 3600)
    after = read_rollout(harness.store, view_key(view))
    assert after is not None and after.halted
    assert states(after) == {
        "early-01": ClusterState.FAILED,
        "early-02": ClusterState.SUCCEEDED,
        "early-03": ClusterState.PENDING,
        "early-04": ClusterState.PENDING,
    }
    assert harness.cluster_applies() == ["early-01", "early-02"]


def test_the_failure_budget_tolerates_that_many_failures() -> None:
    wave = WaveDef("broad", 20, max_concurrent=5, budget=2)
    _, view = rolled((wave,), stuck={"broad-03", "broad-11"})
    assert view.phase is Phase.COMPLETE
    assert [c.name for c in view.clusters if c.state is ClusterState.FAILED] == ["broad-03", "broad-11"]
    assert view.timeline[-1].message == (
        "18 clusters succeeded, 2 failed within their waves' failure budgets: broad-03, broad-11"
    )


def test_one_failure_over_the_budget_halts() -> None:
    wave = WaveDef("broad", 20, max_concurrent=5, budget=2)
    harness, view = rolled((wave,), stuck={"broad-03", "broad-08", "broad-11"})
    assert view.halted
    assert view.halt_reason is not None
    assert view.halt_reason.startswith("wave broad: 3 of 20 clusters failed, over its failure budget of 2: cluster ")
    assert "HealthCheckSucceeded=False (NodeStartupTimeout)" in view.halt_reason
    started = harness.cluster_applies()
    assert len(started) < 20 and "broad-20" not in started


def test_pause_stops_new_clusters_and_resume_continues() -> None:
    harness = Harness.start()
    plan = make_plan(WaveDef("w", 3, max_concurrent=1))
    harness.seed(plan)
    key = harness.submit(plan)
    harness.manager.run(lambda: harness.cluster_applies() == ["w-01"])
    pause(harness.store, key)
    harness.manager.run(lambda: False, deadline=harness.clock.now() + 6 * 3600)
    paused = read_rollout(harness.store, key)
    assert paused is not None and paused.phase is Phase.PAUSED
    assert states(paused) == {
        "w-01": ClusterState.SUCCEEDED,
        "w-02": ClusterState.PENDING,
        "w-03": ClusterState.PENDING,
    }
    assert harness.cluster_applies() == ["w-01"]
    resume(harness.store, key)
    view = harness.run(key)
    assert view.phase is Phase.COMPLETE
    assert harness.cluster_applies() == ["w-01", "w-02", "w-03"]
    types = [e.type for e in view.timeline if not e.cluster]
    assert types.index("Paused") < types.index("Resumed")


def test_resuming_after_the_fault_is_fixed_retries_the_failed_cluster_and_completes() -> None:
    harness, view = rolled(stuck={"canary-01"})
    key = view_key(view)
    assert view.halted
    harness.manager.run(lambda: False, deadline=harness.clock.now() + 600)
    resume(harness.store, key)
    harness.manager.run(lambda: False, deadline=harness.clock.now() + 300)
    retrying = read_rollout(harness.store, key)
    assert retrying is not None and retrying.phase is Phase.PROGRESSING
    assert states(retrying)["canary-01"] is ClusterState.IN_FLIGHT  # the old machine's failed check is history
    harness.fake.heal("canary-01")
    done = harness.run(key)
    assert done.phase is Phase.COMPLETE
    assert done.halt_reason is None
    assert set(states(done).values()) == {ClusterState.SUCCEEDED}
    assert done.clusters[0].attempts == 2
    assert harness.cluster_applies() == ["canary-01", "early-01", "early-02", "early-03", *BROAD.clusters()]
    assert [e.type for e in done.timeline if e.cluster == "canary-01"] == [
        "ClusterStarted",
        "ClusterFailed",
        "Retried",
        "ClusterStarted",
        "ClusterSucceeded",
    ]


def test_resuming_without_a_fix_halts_again_at_the_deadline() -> None:
    harness, view = rolled(stuck={"canary-01"})
    harness.manager.run(lambda: False, deadline=harness.clock.now() + 600)
    resume(harness.store, view_key(view))
    again = harness.run(view_key(view))
    assert again.halted
    assert again.clusters[0].attempts == 2
    assert again.clusters[0].reason.startswith("cluster canary-01: control plane not healthy within 20m: ")
    assert [e.type for e in again.timeline].count("Halted") == 2
    assert harness.cluster_applies() == ["canary-01"]


def view_key(view: RolloutView) -> ObjectKey:
    return ObjectKey("fleetc.io", "FleetRollout", view.namespace, view.name)


def test_an_interrupted_rollout_resumes_from_a_snapshot_without_applying_anything_twice() -> None:
    waves = (CANARY, EARLY, BROAD)
    _, uninterrupted = rolled(waves)
    applied: list[tuple[float, str, str]] = []
    first = Harness.start(applied=applied)
    plan = make_plan(*waves)
    first.seed(plan)
    first.submit(plan)
    first.manager.run(lambda: False, deadline=EPOCH + 45 * 60)
    middle = read_rollout(first.store, plan.key)
    assert middle is not None and middle.phase is Phase.PROGRESSING and middle.wave == "early"
    assert ClusterState.IN_FLIGHT in states(middle).values()
    snapshot, now = first.store.snapshot(), first.clock.now()

    second = Harness.start(applied=applied, snapshot=snapshot, now=now)
    second.submit(plan)
    resumed = second.run(plan.key)
    assert resumed.phase is Phase.COMPLETE
    cluster_applies = [name for _, kind, name in applied if kind == "Cluster"]
    assert sorted(cluster_applies) == sorted(c.name for c in plan.clusters)
    assert [kind for _, kind, _ in applied].count("ClusterClass") == 1
    assert {c.attempts for c in resumed.clusters} == {1}
    assert resumed.to_dict() == uninterrupted.to_dict()


def test_equal_inputs_give_identical_timelines() -> None:
    def run() -> RolloutView:
        harness, view = rolled((CANARY, WaveDef("broad", 12, 4, budget=1)), stuck={"broad-05"}, silent={"broad-09"})
        harness.fake.heal("broad-09")
        return view

    first, second = run(), run()
    assert first.halted
    assert first.to_dict() == second.to_dict()
    assert [e.seq for e in first.timeline] == list(range(1, len(first.timeline) + 1))


def test_a_kubernetes_version_is_never_rolled_back() -> None:
    harness = Harness.start()
    plan = make_plan(CANARY, EARLY, version=OLD)
    harness.seed(plan, version=NEW)
    view = harness.run(harness.submit(plan))
    assert view.halted
    assert view.clusters[0].reason == (
        "cluster canary-01: Cluster canary-01: spec.topology.version: refusing to roll back v1.35.0 to v1.34.2 "
        "(CAPI cannot downgrade a control plane)"
    )
    assert harness.cluster_applies() == []
    assert harness.live_version("canary-01") == NEW


def test_an_apply_rejected_for_good_fails_the_cluster() -> None:
    def reject(manifest: dict[str, object]) -> None:
        if manifest["kind"] == "Cluster":
            raise TerminalError("admission webhook denied the request: version skew")

    harness = Harness.start(before_apply=reject)
    plan = make_plan(CANARY, EARLY)
    harness.seed(plan)
    view = harness.run(harness.submit(plan))
    assert view.halted
    assert view.clusters[0].reason == (
        "cluster canary-01: Cluster canary-01: apply rejected: admission webhook denied the request: version skew"
    )


def test_a_class_revision_change_rolls_out_like_an_upgrade() -> None:
    harness = Harness.start()
    harness.seed(make_plan(CANARY, EARLY), version=NEW)
    plan = make_plan(CANARY, EARLY, class_ref="fleet-standard-2")
    view = harness.run(harness.submit(plan))
    assert view.phase is Phase.COMPLETE
    for cluster in view.clusters:
        live = harness.store.get(ObjectKey("cluster.x-k8s.io", "Cluster", cluster.namespace, cluster.name))
        assert live["spec"]["topology"]["classRef"] == {"name": "fleet-standard-2"}
        took = seconds(cluster.finished_at) - seconds(cluster.started_at)  # whole seconds; checks wait 0.5 s
        assert harness.fake.upgrade_seconds <= took <= harness.fake.upgrade_seconds + 1


def test_a_cluster_failing_while_its_wave_soaks_counts_against_the_budget() -> None:
    harness = Harness.start()
    plan = make_plan(CANARY, EARLY)
    harness.seed(plan)
    key = harness.submit(plan)
    harness.manager.run(lambda: (read_rollout(harness.store, key) or _never()).phase is Phase.SOAKING)
    harness.fake.stuck.add("canary-01")
    harness.manager.enqueue(harness.fake.name, ObjectKey("cluster.x-k8s.io", "Cluster", "fleet-eu", "canary-01"))
    view = harness.run(key)
    assert view.halted
    assert view.clusters[0].reason.startswith("failed while its wave soaked: cluster canary-01: Machine ")
    assert harness.cluster_applies() == ["canary-01"]


def test_resuming_after_a_failure_during_the_soak_retries_and_soaks_again() -> None:
    harness = Harness.start()
    plan = make_plan(CANARY, EARLY)
    harness.seed(plan)
    key = harness.submit(plan)
    harness.manager.run(lambda: (read_rollout(harness.store, key) or _never()).phase is Phase.SOAKING)
    harness.fake.stuck.add("canary-01")
    harness.manager.enqueue(harness.fake.name, ObjectKey("cluster.x-k8s.io", "Cluster", "fleet-eu", "canary-01"))
    assert harness.run(key).halted
    harness.manager.run(lambda: False, deadline=harness.clock.now() + 600)
    harness.fake.heal("canary-01")
    harness.manager.run(lambda: False, deadline=harness.clock.now())
    resume(harness.store, key)
    view = harness.run(key)
    assert view.phase is Phase.COMPLETE
    assert [e.type for e in view.timeline if not e.cluster].count("SoakStarted") == 2


def _never() -> RolloutView:
    raise AssertionError("no rollout")


def test_a_new_revision_restarts_the_rollout_and_submitting_twice_changes_nothing() -> None:
    harness, _ = rolled((CANARY, EARLY))
    plan = make_plan(CANARY, EARLY)
    before = harness.store.get(plan.key)["metadata"]["resourceVersion"]
    harness.submit(plan)
    assert harness.store.get(plan.key)["metadata"]["resourceVersion"] == before
    assert settled(harness.store, plan.key)

    second = make_plan(CANARY, EARLY, revision="rev-2", class_ref="fleet-standard-2")
    view = harness.run(harness.submit(second))
    assert view.phase is Phase.COMPLETE and view.revision == "rev-2"
    assert view.timeline[0].type == "RolloutStarted" and "rev-2" in view.timeline[0].message
    assert harness.cluster_applies() == [*["canary-01", "early-01", "early-02", "early-03"] * 2]


def test_rollout_work_grows_with_the_clusters_not_with_the_events() -> None:
    """The double writes ~12 objects per cluster at each of 3 moments: one verdict check per moment, not per write."""
    harness, view = rolled((WaveDef("canary", 2), WaveDef("broad", 80, max_concurrent=20, soak=600)))
    assert view.phase is Phase.COMPLETE
    stats = harness.manager.stats.by_controller
    assert stats["fleetrollout"] <= 4 * len(view.clusters)
    assert stats["fleetrollout-verdicts"] <= 3 * len(view.clusters)


def test_with_a_resync_a_rollout_whose_wake_ups_are_lost_still_finishes() -> None:
    """Against an API server a change can reach the cache without waking the controller; then no verdict check and
    no deadline brings the cluster back, and it stays in flight for ever (seen once in CI: every object healthy, the
    queue empty). The periodic full pass of ``resync`` judges it again."""

    def run(resync: float | None) -> RolloutView:
        harness = Harness.start(resync=resync)
        plan = make_plan(CANARY)
        harness.seed(plan)
        watch = harness.controller._watch  # lose every wake-up: no verdict check is scheduled, no deadline kept
        watch._schedule = lambda cluster: None
        watch.set_deadline = lambda rollout, name, at: None  # type: ignore[method-assign]
        return harness.run(harness.submit(plan), hours=6)

    lost, caught = run(None), run(60.0)

    assert lost.phase is Phase.PROGRESSING and ClusterState.IN_FLIGHT in states(lost).values()
    assert caught.phase is Phase.COMPLETE and set(states(caught).values()) == {ClusterState.SUCCEEDED}


def test_a_pass_that_fails_after_taking_a_due_deadline_judges_that_cluster_again_on_its_retry() -> None:
    """The pass that a control-plane deadline wakes takes the deadline, then fails writing its verdict (a conflict, an
    API server that times out): the manager retries the pass, which must judge the cluster again. Before, the retry
    judged nothing (the deadline was gone, the cluster unchanged) and the cluster stayed in flight for ever."""
    harness = Harness.start(fake={"silent": {"canary-01"}})
    plan = make_plan(CANARY)
    harness.seed(plan)
    write = harness.store.update_status
    refused: list[float] = []

    def refuse_the_first_failure(obj: Manifest) -> Manifest:
        if obj["kind"] == "ClusterRollout" and obj["status"].get("state") == "Failed" and not refused:
            refused.append(harness.clock.now())
            raise Conflict(f"{obj['metadata']['name']} was modified")
        return write(obj)

    harness.store.update_status = refuse_the_first_failure  # type: ignore[method-assign]
    view = harness.run(harness.submit(plan), hours=6)

    canary = view.clusters[0]
    assert refused == [EPOCH + CANARY.deadline]
    assert canary.state is ClusterState.FAILED and view.halted
    assert CANARY.deadline < seconds(canary.finished_at) <= CANARY.deadline + 5  # on the retry, after a backoff
