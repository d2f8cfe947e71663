"""The FleetRollout's conditions (Progressing, Halted, Complete) and the Kubernetes Events made from its timeline,
over the in-memory plane with the CAPI double (the real API server tests check the same on a real server)."""

from __future__ import annotations

from typing import Any

from fleetc.core.keys import ObjectKey
from fleetc.engine.controller import EventRecorder
from fleetc.runtime.clock import EPOCH
from fleetc.runtime.store import Event
from tests.rollout.support import Harness, WaveDef, make_plan


def conditions_of(harness: Harness, plan_key: Any) -> dict[str, dict[str, Any]]:
    return {c["type"]: c for c in harness.store.get(plan_key)["status"]["conditions"]}


def test_a_completed_rollout_reads_complete_and_not_progressing() -> None:
    harness = Harness.start()
    plan = make_plan(WaveDef("canary", 1), WaveDef("broad", 3, 3))
    harness.seed(plan)
    key = harness.submit(plan)
    harness.run(key)
    found = conditions_of(harness, key)
    assert (found["Complete"]["status"], found["Complete"]["reason"]) == ("True", "Completed")
    assert found["Complete"]["message"] == "4 clusters succeeded, 0 failed"
    assert (found["Progressing"]["status"], found["Progressing"]["reason"]) == ("False", "Completed")
    assert (found["Halted"]["status"], found["Halted"]["reason"]) == ("False", "WithinFailureBudget")
    assert all(c["observedGeneration"] == harness.store.get(key)["metadata"]["generation"] for c in found.values())


def test_a_halt_names_the_cluster_the_object_and_the_condition() -> None:
    harness = Harness.start(fake={"stuck": {"canary-01"}})
    plan = make_plan(WaveDef("canary", 1), WaveDef("broad", 3, 3))
    harness.seed(plan)
    key = harness.submit(plan)
    harness.run(key)
    halted = conditions_of(harness, key)["Halted"]
    assert (halted["status"], halted["reason"]) == ("True", "FailureBudgetExceeded")
    assert "canary-01" in halted["message"] and "Machine" in halted["message"]
    assert "HealthCheckSucceeded" in halted["message"]
    assert conditions_of(harness, key)["Progressing"]["status"] == "False"


def test_a_condition_keeps_its_transition_time_while_its_status_holds() -> None:
    harness = Harness.start()
    plan = make_plan(WaveDef("canary", 1), WaveDef("broad", 3, 1))
    harness.seed(plan)
    key = harness.submit(plan)
    seen: list[str] = []

    def progressing_since() -> bool:
        status = harness.store.get(key).get("status") or {}
        found = {c["type"]: c for c in status.get("conditions", [])}
        if found.get("Progressing", {}).get("status") == "True":
            seen.append(found["Progressing"]["lastTransitionTime"])
        return status.get("phase") == "Complete"

    harness.manager.run(progressing_since, deadline=harness.clock.now() + 86400)
    assert len(seen) > 3 and len(set(seen)) == 1


def test_every_timeline_entry_becomes_one_event_named_after_its_sequence() -> None:
    harness = Harness.start(fake={"stuck": {"canary-01"}})
    recorder = EventRecorder(harness.store, "me", since=EPOCH - 1)
    plan = make_plan(WaveDef("canary", 1))
    harness.seed(plan)
    key = harness.submit(plan)
    harness.run(key)
    recorder.flush()
    events = harness.store.list("", "Event")
    reasons = [e["reason"] for e in events]
    assert {"RolloutStarted", "WaveStarted", "ClusterStarted", "ClusterFailed", "Halted"} <= set(reasons)
    failed = next(e for e in events if e["reason"] == "ClusterFailed")
    assert failed["type"] == "Warning" and failed["involvedObject"]["kind"] == "ClusterRollout"
    assert failed["message"].startswith("cluster canary-01: wave canary: ")
    halted = next(e for e in events if e["reason"] == "Halted")
    assert halted["involvedObject"]["kind"] == "FleetRollout" and "canary-01" in halted["message"]
    assert recorder.sent == len(events) and {e["reportingInstance"] for e in events} == {"me"}


def test_a_new_leader_sends_only_what_is_recent_and_never_twice() -> None:
    harness = Harness.start()
    plan = make_plan(WaveDef("canary", 2, 2))
    harness.seed(plan)
    key = harness.submit(plan)
    harness.run(key)
    first = EventRecorder(harness.store, "old", since=EPOCH - 1)
    # a recorder only sees changes made after it started: replay the current objects to it, as an informer's list does
    replay(harness, first)
    first.flush()
    sent = len(harness.store.list("", "Event"))
    assert sent == first.sent > 0
    late = EventRecorder(harness.store, "new", since=harness.clock.now() + 1)
    replay(harness, late)
    late.flush()
    assert late.sent == 0 and len(harness.store.list("", "Event")) == sent
    again = EventRecorder(harness.store, "again", since=EPOCH - 1)  # would resend all: each exists already
    replay(harness, again)
    again.flush()
    assert again.sent == 0 and len(harness.store.list("", "Event")) == sent


def replay(harness: Harness, recorder: EventRecorder) -> None:
    """What a starting leader's informers deliver: every current rollout object, as ADDED."""
    for kind in ("FleetRollout", "ClusterRollout"):
        for obj in harness.store.list("fleetc.io", kind):
            recorder._on_event(Event("ADDED", ObjectKey.of(obj), obj))
