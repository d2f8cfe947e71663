"""Approval gates and maintenance windows in the rollout controller (virtual time, the CAPI double).

A wave that requires approval starts nothing until ``approve`` records who and when; a cluster with a maintenance
window starts only inside it, and one in flight when the window closes finishes.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from fleetc.core.errors import UnknownWaveError
from fleetc.rollout import ClusterState, Phase, approve, settled
from fleetc.rollout.desired import RolloutPlan
from fleetc.schema.windows import MaintenanceWindow
from tests.rollout.support import Harness, WaveDef, make_plan

WAVES = (WaveDef("canary", 1), WaveDef("broad", 2, 2))


def _gated(plan: RolloutPlan, wave: str) -> RolloutPlan:
    waves = tuple(w.model_copy(update={"require_approval": True}) if w.name == wave else w for w in plan.waves)
    return dataclasses.replace(plan, waves=waves)


def _windowed(plan: RolloutPlan, window: MaintenanceWindow, *clusters: str) -> RolloutPlan:
    chosen = {c.wave for c in plan.clusters if c.name in clusters}
    return dataclasses.replace(
        plan,
        waves=tuple(w.model_copy(update={"windowed": True}) if w.name in chosen else w for w in plan.waves),
        clusters=tuple(dataclasses.replace(c, window=window) if c.name in clusters else c for c in plan.clusters),
    )


def _types(harness: Harness, key: object) -> list[str]:
    view = harness.run(key, hours=0)  # type: ignore[arg-type]
    return [e.type for e in view.timeline]


def _at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def test_a_wave_that_requires_approval_waits_for_it_then_records_who_approved() -> None:
    harness = Harness.start()
    plan = _gated(make_plan(*WAVES), "broad")
    harness.seed(plan)
    key = harness.submit(plan)
    view = harness.run(key)
    assert view.phase is Phase.AWAITING_APPROVAL and view.unfinished and not view.halted
    assert view.awaiting_approval == "broad"
    assert {c.name: c.state for c in view.clusters} == {
        "canary-01": ClusterState.SUCCEEDED,
        "broad-01": ClusterState.PENDING,
        "broad-02": ClusterState.PENDING,
    }
    needed = [e for e in view.timeline if e.type == "ApprovalNeeded"]
    assert [(e.wave, e.message) for e in needed] == [("broad", "run fleetc rollout approve broad")]
    stored = harness.store.get(key)["status"]
    progressing = next(c for c in stored["conditions"] if c["type"] == "Progressing")
    assert (progressing["status"], progressing["reason"]) == ("False", "AwaitingApproval")
    assert progressing["message"] == "waiting for approval of wave broad"
    harness.clock.wait_until(harness.clock.now() + 3600)
    assert harness.run(key).phase is Phase.AWAITING_APPROVAL  # an hour later: still waiting, announced once
    assert [e.type for e in harness.run(key).timeline].count("ApprovalNeeded") == 1

    approval = approve(harness.store, key, "broad", by="alice", at=harness.clock.now())
    view = harness.run(key)
    assert view.phase is Phase.COMPLETE
    assert (approval.by, approval.wave, approval.revision) == ("alice", "broad", plan.revision)
    assert [a.by for a in view.approvals] == ["alice"]
    approved = next(e for e in view.timeline if e.type == "Approved")
    assert approved.wave == "broad" and approved.message.startswith("by alice at ")
    first_start = min(c.started_at or "~" for c in view.clusters if c.wave == "broad")
    assert first_start >= approved.time


def test_settled_waits_on_an_approval_only_when_asked_to() -> None:
    harness = Harness.start()
    plan = _gated(make_plan(*WAVES), "canary")
    harness.seed(plan)
    key = harness.submit(plan)
    assert harness.run(key).phase is Phase.AWAITING_APPROVAL
    assert settled(harness.store, key)
    assert not settled(harness.store, key, wait_when_paused=True)
    assert harness.cluster_applies() == []  # the first wave too: nothing before the approval


def test_an_approval_given_before_the_wave_is_reached_lets_it_start_without_waiting() -> None:
    harness = Harness.start()
    plan = _gated(make_plan(*WAVES), "broad")
    harness.seed(plan)
    key = harness.submit(plan)
    approve(harness.store, key, "broad", by="bob", at=harness.clock.now())
    view = harness.run(key)
    assert view.phase is Phase.COMPLETE
    assert "ApprovalNeeded" not in [e.type for e in view.timeline]


def test_an_approval_is_for_one_revision_and_survives_a_resubmit_of_it() -> None:
    harness = Harness.start()
    plan = _gated(make_plan(*WAVES), "broad")
    harness.seed(plan)
    key = harness.submit(plan)
    approve(harness.store, key, "broad", by="bob", at=harness.clock.now())
    harness.submit(plan)  # apply again, same revision: the approval stays
    assert harness.run(key).phase is Phase.COMPLETE
    newer = _gated(make_plan(*WAVES, version="v1.35.1", revision="rev-2"), "broad")
    harness.submit(newer)
    view = harness.run(key)
    assert view.phase is Phase.AWAITING_APPROVAL and view.revision == "rev-2"
    assert view.approvals == ()


def test_approving_a_wave_the_rollout_lacks_is_a_usage_error_naming_its_waves() -> None:
    harness = Harness.start()
    key = harness.submit(make_plan(*WAVES))
    with pytest.raises(UnknownWaveError, match=r"no wave 'brod' \(its waves: canary, broad\)"):
        approve(harness.store, key, "brod", by="x", at=0.0)


def test_approving_twice_keeps_the_first_approval() -> None:
    harness = Harness.start()
    key = harness.submit(_gated(make_plan(*WAVES), "broad"))
    first = approve(harness.store, key, "broad", by="alice", at=harness.clock.now())
    second = approve(harness.store, key, "broad", by="mallory", at=harness.clock.now() + 60)
    assert second == first


# --- maintenance windows ----------------------------------------------------------------------------------------------

SATURDAY_NIGHT = MaintenanceWindow.model_validate({"days": ["Sat"], "start": "02:00", "duration": "5m"})
# The harness starts at 2026-01-01 00:00 UTC, a Thursday.


def test_a_cluster_starts_only_inside_its_window_and_one_in_flight_finishes_after_it_closes() -> None:
    harness = Harness.start()  # the CAPI double takes 10 minutes per cluster: longer than the 5 minute window
    plan = _windowed(make_plan(WaveDef("broad", 2)), SATURDAY_NIGHT, "broad-01", "broad-02")
    harness.seed(plan)
    key = harness.submit(plan)
    view = harness.run(key, hours=24 * 10)
    assert view.phase is Phase.COMPLETE
    clusters = {c.name: c for c in view.clusters}
    assert clusters["broad-01"].started_at == "2026-01-03T02:00:00Z"  # the first Saturday 02:00
    assert _at(clusters["broad-01"].finished_at or "") > _at("2026-01-03T02:05:00")  # finished after the close
    assert clusters["broad-02"].started_at == "2026-01-10T02:00:00Z"  # maxConcurrent 1: the next window
    waits = [e for e in view.timeline if e.type == "WaitingForWindow"]
    assert [e.time for e in waits] == ["2026-01-01T00:00:00Z", "2026-01-03T02:10:00Z"]
    assert "Sat 02:00+5m UTC" in waits[0].message and "opens at 2026-01-03T02:00:00Z" in waits[0].message


def test_clusters_without_a_window_are_not_held_by_one_that_has_one() -> None:
    harness = Harness.start()
    plan = _windowed(make_plan(WaveDef("broad", 3, 3)), SATURDAY_NIGHT, "broad-01")
    harness.seed(plan)
    key = harness.submit(plan)
    view = harness.run(key, hours=24 * 5)
    started = {c.name: c.started_at for c in view.clusters}
    assert started["broad-02"] == started["broad-03"] == "2026-01-01T00:00:00Z"
    assert started["broad-01"] == "2026-01-03T02:00:00Z"
