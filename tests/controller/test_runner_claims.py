"""One runner per rollout (:mod:`fleetc.engine.runner`): a claim held by another process keeps the in-cluster
controller's hands (and notifier) off a rollout until the claim is released or lapses, judged on the controller's own
clock. Over the in-memory store, with clocks the test moves; the same on a real API server is in
``tests/controller/test_in_cluster.py`` and
``tests/kube/test_apply_management.py``."""

from __future__ import annotations

import dataclasses

from fleetc.core.errors import ServerError
from fleetc.core.keys import Manifest, ObjectKey
from fleetc.engine.leader import ElectionConfig, LeaderElector, record_of
from fleetc.engine.notify import Notifier
from fleetc.engine.runner import RunnerClaims, claim_key, claim_left, runner_line
from fleetc.rollout import ClusterState, Phase
from fleetc.rollout.desired import RolloutPlan
from fleetc.runtime.clock import EPOCH, VirtualClock
from fleetc.runtime.memory import MemoryStore
from fleetc.schema.notifications import NotificationPolicy
from tests.notifications.receiver import Receiver as Hook
from tests.notifications.receiver import serve
from tests.rollout.support import NAMESPACE, NEW, Harness, WaveDef, make_plan

ROLLOUT = ObjectKey("fleetc.io", "FleetRollout", NAMESPACE, "acme")


class Clock:
    """A monotonic (and wall) clock the test moves."""

    def __init__(self) -> None:
        self.now = 5_000.0

    def __call__(self) -> float:
        return self.now


def runner(store: MemoryStore, clock: Clock, rollout: ObjectKey = ROLLOUT, identity: str = "fleetc-apply/ci/7",
           lease: float = 15.0) -> LeaderElector:  # fmt: skip
    """A command-line runner holding (and, when the test says so, renewing) the rollout's claim."""
    config = ElectionConfig(rollout.namespace, claim_key(rollout).name, identity, lease, lease * 2 / 3, lease / 6)
    return LeaderElector(store, config, wall=clock, monotonic=clock)


def test_a_claim_counts_until_its_lease_duration_passes_without_a_change() -> None:
    record = {"holderIdentity": "fleetc-apply/ci/7", "leaseDurationSeconds": 15}
    assert claim_left(record, 0.0, "controller-0") == 15.0
    assert claim_left(record, 14.0, "controller-0") == 1.0
    assert claim_left(record, 15.0, "controller-0") is None  # lapsed: its runner died
    assert claim_left(record, 0.0, "fleetc-apply/ci/7") is None  # our own claim
    assert claim_left({**record, "holderIdentity": ""}, 0.0, "controller-0") is None  # released
    assert claim_left({}, 0.0, "controller-0") is None  # nobody ever claimed it


def test_the_controller_sees_a_live_claim_and_its_lapse_on_its_own_clock() -> None:
    store, clock = MemoryStore(VirtualClock()), Clock()
    claims = RunnerClaims(store, "controller-0", monotonic=clock, refresh=2.0)
    assert claims.elsewhere(ROLLOUT) is None  # no claim yet
    holder = runner(store, clock)
    assert holder.try_acquire_or_renew()
    clock.now += 2
    assert claims.elsewhere(ROLLOUT) == 15.0  # first seen now: a full lease from here, whatever the record's times say
    clock.now += 10
    assert holder.try_acquire_or_renew()  # renewed: the record changed
    clock.now += 2
    assert claims.elsewhere(ROLLOUT) == 15.0
    clock.now += 14
    assert claims.elsewhere(ROLLOUT) == 1.0  # not renewed since (the runner died)
    clock.now += 1
    assert claims.elsewhere(ROLLOUT) is None
    assert not claims.holds_elsewhere(ROLLOUT)


def test_a_released_claim_frees_the_rollout_at_once() -> None:
    store, clock = MemoryStore(VirtualClock()), Clock()
    claims = RunnerClaims(store, "controller-0", monotonic=clock, refresh=2.0)
    holder = runner(store, clock)
    holder.try_acquire_or_renew()
    assert claims.holds_elsewhere(ROLLOUT)
    assert holder.release()
    clock.now += 2
    assert record_of(store.find(claim_key(ROLLOUT))).get("holderIdentity") is None
    assert claims.elsewhere(ROLLOUT) is None


class Unreachable(MemoryStore):
    """A store whose reads fail once told to (an API server that stopped answering)."""

    down = False

    def find(self, key: ObjectKey) -> Manifest | None:
        if self.down:
            raise ServerError("the server is down")
        return super().find(key)


def test_the_notifier_goes_by_the_last_claim_it_read_while_the_server_does_not_answer() -> None:
    store, clock = Unreachable(VirtualClock()), Clock()
    claims = RunnerClaims(store, "controller-0", monotonic=clock, refresh=2.0)
    runner(store, clock).try_acquire_or_renew()
    assert claims.holds_elsewhere(ROLLOUT)
    store.down = True
    clock.now += 5
    assert claims.holds_elsewhere(ROLLOUT)  # still held as far as anyone knows
    clock.now += 11
    assert not claims.holds_elsewhere(ROLLOUT)  # not seen renewed for its lease: lapsed


def test_status_names_the_runner_and_a_lapsed_claim() -> None:
    now = 1_800_000_000.0  # 2027-01-15T08:00:00Z
    record = {"holderIdentity": "fleetc-apply/ci/7", "leaseDurationSeconds": 15,
              "renewTime": "2027-01-15T07:59:58.250000Z"}  # fmt: skip
    assert runner_line(record, now) == "runner: fleetc-apply/ci/7 (claim renewed 2 s ago)"
    assert runner_line(record, now + 60) == (
        "runner: fleetc-apply/ci/7 (claim renewed 62 s ago; lapsed (15 s lease): its process has died)"
    )
    assert runner_line({}, now).startswith("runner: no command holds the rollout's claim")


def _plan() -> RolloutPlan:
    return make_plan(WaveDef("canary", 1), WaveDef("broad", 2, 2))


def test_the_controller_leaves_a_claimed_rollout_alone_and_takes_it_over_when_the_claim_lapses() -> None:
    """The in-cluster controller beside a pipeline's ``fleetc apply``: it used to carry the rollout out too."""
    claimed = {"until": EPOCH + 600.0}

    def defer(key: ObjectKey) -> float | None:
        left = claimed["until"] - harness.clock.now()
        return left if key == plan.key and left > 0 else None

    harness = Harness.start(defer=defer)
    plan = _plan()
    harness.seed(plan)
    key = harness.submit(plan)
    harness.manager.run(lambda: False, deadline=EPOCH + 599)
    assert harness.cluster_applies() == [] and {harness.live_version(c.name) for c in plan.clusters} != {NEW}
    view = harness.run(key)
    assert view.phase is Phase.COMPLETE and {c.state for c in view.clusters} == {ClusterState.SUCCEEDED}
    assert harness.applied[0][0] == 600.0  # taken over the moment the claim lapsed, not at the next event


def test_the_controllers_notifier_leaves_a_claimed_rollouts_entries_to_its_runner() -> None:
    policy = NotificationPolicy.model_validate(
        {"receivers": [{"name": "ops", "urlFrom": {"secretKeyRef": {"name": "hooks", "key": "url"}}}], "retries": 0}
    )
    harness = Harness.start()
    with serve(Hook()) as hook:
        plan = dataclasses.replace(_plan(), notifications=policy)
        harness.seed(plan)
        elsewhere = {"now": True}
        notifier = Notifier(harness.store, lambda source, namespace: hook.url, since=EPOCH - 1,
                            elsewhere=lambda key: elsewhere["now"])  # fmt: skip
        key = harness.submit(plan)

        def timeline() -> list[str]:
            return [e["type"] for e in (harness.store.get(key).get("status") or {}).get("timeline", [])]

        harness.manager.run(lambda: "WaveCompleted" in timeline(), deadline=EPOCH + 3600)
        elsewhere["now"] = False  # the runner died: what is written from here on is the controller's to send
        harness.run(key)
        report = notifier.close(wait=5)
        events = [b["event"] for b in hook.bodies]
    assert timeline().count("WaveCompleted") == 1 and timeline()[-1] == "Completed"
    assert events == ["Completed"] and report.sent == 1  # the canary's WaveCompleted was the runner's to send
