"""What the in-cluster controller composes (:mod:`fleetc.engine.controller`), in process over the memory store: new
timeline entries become Kubernetes Events (an approval needed included) and notifications from the same store; a
Secret holds the receiver URL; entries stored before the notifier started are not sent again."""

from __future__ import annotations

import base64
import dataclasses

from fleetc.core.keys import ObjectKey
from fleetc.engine.controller import EventRecorder
from fleetc.engine.notify import Notifier, secret_resolver
from fleetc.rollout import approve
from fleetc.rollout.desired import RolloutPlan
from fleetc.runtime.clock import EPOCH
from fleetc.schema.notifications import NotificationPolicy
from tests.notifications.receiver import Receiver as Hook
from tests.notifications.receiver import serve
from tests.rollout.support import NAMESPACE, Harness, WaveDef, make_plan

POLICY = NotificationPolicy.model_validate(
    {"receivers": [{"name": "ops", "urlFrom": {"secretKeyRef": {"name": "hooks", "key": "url"}}}], "retries": 0}
)


def _plan() -> RolloutPlan:
    plan = make_plan(WaveDef("canary", 1), WaveDef("broad", 2, 2))
    waves = tuple(w.model_copy(update={"require_approval": w.name == "broad"}) for w in plan.waves)
    return dataclasses.replace(plan, waves=waves, notifications=POLICY)


def test_the_controller_records_events_and_notifies_through_a_secret_url() -> None:
    harness = Harness.start()
    with serve(Hook()) as hook:
        secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "hooks", "namespace": NAMESPACE},
                  "data": {"url": base64.b64encode(hook.url.encode()).decode()}}  # fmt: skip
        harness.store.create(secret)
        recorder = EventRecorder(harness.store, "me", since=EPOCH - 1)
        notifier = Notifier(harness.store, secret_resolver(harness.store.find, {}), since=EPOCH - 1)
        plan = _plan()
        harness.seed(plan)
        key = harness.submit(plan)
        harness.run(key)
        recorder.flush()
        report = notifier.close(wait=5)
        events = [b["event"] for b in hook.bodies]
    reasons = [e["reason"] for e in harness.store.list("", "Event")]
    assert "ApprovalNeeded" in reasons and "WaveCompleted" in reasons
    assert events == ["WaveCompleted", "ApprovalNeeded"] and report.sent == 2 and report.failures == []


def test_entries_stored_before_the_notifier_started_are_not_sent_again() -> None:
    harness = Harness.start()
    with serve(Hook()) as hook:
        plan = _plan()
        harness.seed(plan)
        key = harness.submit(plan)
        harness.run(key)  # waits for approval of broad: WaveCompleted and ApprovalNeeded are stored
        notifier = Notifier(harness.store, lambda source, namespace: hook.url, since=EPOCH - 1)
        approve(harness.store, key, "broad", by="x", at=harness.clock.now())
        harness.run(key)
        report = notifier.close(wait=5)
        events = [b["event"] for b in hook.bodies]
    assert events == ["Completed"] and report.sent == 1


def test_a_notifier_for_one_rollout_sends_nothing_about_another() -> None:
    """``fleetc apply`` notifies for the rollout it carries out; another fleet's runner notifies for that one."""
    harness = Harness.start()
    with serve(Hook()) as hook:
        plan = _plan()
        harness.seed(plan)
        key = harness.submit(plan)
        other = ObjectKey(key.group, key.kind, key.namespace, "another-fleet")
        mine = Notifier(harness.store, lambda source, namespace: hook.url, since=EPOCH - 1, only=other)
        harness.run(key)
        report = mine.close(wait=5)
    assert hook.bodies == [] and report.sent == 0
