"""One reconcile of a FleetRollout: the rollout as read, the status being edited, and what every stage shares.

:class:`Run` is the reconcile's working state (the typed spec, a copy of the status the stages edit, the events
they add, when to wake up). :class:`Scope` pairs it with the controller's collaborators (store, informer cache,
watch list, workload clusters: :mod:`~fleetc.rollout.workloads`) and holds the cluster operations more than one
stage uses: judging a cluster, writing its status, finishing it. Stages (:mod:`~fleetc.rollout.reconcile_revision`,
:mod:`~fleetc.rollout.reconcile_clusters`, :mod:`~fleetc.rollout.reconcile_waves`) and wave gates
(:mod:`fleetc.rollout.wavegates`) take a Scope.
Caller: :class:`fleetc.rollout.controller.RolloutController`, which makes one per reconcile.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fleetc.contract.timestamps import timestamp
from fleetc.core.keys import Manifest, ObjectKey
from fleetc.rollout.cache import Informer, RolloutId
from fleetc.rollout.entries import ClusterEntry
from fleetc.rollout.gates import Health, Target, Verdict
from fleetc.rollout.model import ClusterState, Event, RolloutSpec, RolloutStatus, WaveCounts, WaveSpec
from fleetc.rollout.watching import Watchlist
from fleetc.rollout.workloads import Workloads
from fleetc.runtime.store import Store


@dataclass
class Run:
    """One reconcile's working state: the rollout as read, the status being edited, what to wake up for."""

    key: ObjectKey
    rollout: Manifest
    spec: RolloutSpec
    status: RolloutStatus
    original: Manifest
    now: float
    wakeups: list[float] = field(default_factory=list)
    failures: list[ClusterEntry] = field(default_factory=list)

    @classmethod
    def begin(cls, rollout: Manifest, now: float) -> Run:
        """The working state of a reconcile of ``rollout`` at ``now``."""
        original = rollout.get("status") or {}
        key = ObjectKey.of(rollout)
        spec = RolloutSpec.model_validate(rollout.get("spec", {}))
        return cls(key, rollout, spec, RolloutStatus.model_validate(original), original, now)

    @property
    def rid(self) -> RolloutId:
        """The rollout's (namespace, name)."""
        return self.key.namespace, self.key.name

    @property
    def index(self) -> int:
        """The position of the current wave."""
        names = [w.name for w in self.spec.waves]
        return names.index(self.status.wave) if self.status.wave in names else 0

    @property
    def wave(self) -> WaveSpec:
        """The current wave."""
        return self.spec.waves[self.index]

    @property
    def stamp(self) -> str:
        """Now, as written in status."""
        return timestamp(self.now)

    def event(self, kind: str, message: str = "", *, wave: str = "", cluster: str = "") -> Event:
        """A new event (the rollout's own events go to its timeline)."""
        self.status.sequence += 1
        event = Event(seq=self.status.sequence, time=self.stamp, type=kind, message=message, wave=wave, cluster=cluster)
        if not cluster:
            self.status.timeline.append(event)
        return event

    def wakeup(self) -> float | None:
        """Seconds until the earliest wake-up asked for (None: none)."""
        return max(min(self.wakeups) - self.now, 0.0) if self.wakeups else None

    def order(self, entry: ClusterEntry) -> tuple[int, int, str]:
        """A cluster's rollout position: wave, place in the wave, name."""
        names = [w.name for w in self.spec.waves]
        return (names.index(entry.wave) if entry.wave in names else len(names), entry.order, entry.name)

    def wave_of(self, entry: ClusterEntry) -> WaveSpec:
        """The wave a cluster belongs to."""
        return next((w for w in self.spec.waves if w.name == entry.wave), self.wave)


@dataclass
class Scope:
    """A reconcile's run with the controller's store, informer cache (its rollout index), watch list (changed
    clusters and deadlines) and workload clusters."""

    run: Run
    store: Store
    informer: Informer
    watch: Watchlist
    workloads: Workloads

    def count(self, wave: str, state: ClusterState) -> int:
        """How many clusters of ``wave`` are in ``state``."""
        return self.informer.rollouts.count(self.run.rid, wave, state)

    def entries(self, wave: str, state: ClusterState) -> list[ClusterEntry]:
        """The clusters of ``wave`` in ``state``, in rollout order."""
        index = self.informer.rollouts
        return [index.entry(self.run.rid, name) for name in index.names(self.run.rid, wave, state)]

    def counts(self, wave: WaveSpec) -> WaveCounts:
        """How many clusters of ``wave`` are in each state."""
        return WaveCounts(
            name=wave.name,
            pending=self.count(wave.name, ClusterState.PENDING),
            in_flight=self.count(wave.name, ClusterState.IN_FLIGHT),
            succeeded=self.count(wave.name, ClusterState.SUCCEEDED),
            failed=self.count(wave.name, ClusterState.FAILED),
        )

    def judged(self, entry: ClusterEntry) -> Verdict:
        """The cluster's verdict; from now on a change of that verdict enqueues the rollout."""
        cluster = (entry.namespace, entry.name)
        target = Target(entry.version, entry.class_ref, entry.started_at, entry.preexisting, entry.worker_remediations)
        return self.workloads.judge(self.run.key, cluster, target)

    def observe_soaking(self, entry: ClusterEntry) -> None:
        """While a wave soaks, a cluster of it that fails counts against the wave's budget."""
        verdict = self.judged(entry)
        if verdict.health is Health.FAILED:
            self.finish(entry, ClusterState.FAILED, f"failed while its wave soaked: {verdict.reason}")

    def unwatch(self, entry: ClusterEntry) -> None:
        """Stop acting on changes of a cluster's verdict."""
        self.workloads.unwatch(self.run.key, (entry.namespace, entry.name))

    def finish(self, entry: ClusterEntry, state: ClusterState, reason: str) -> None:
        """A cluster succeeded or failed (``reason``): its status, its event, no more watching."""
        run = self.run
        status = {**entry.status, "state": str(state), "finishedAt": run.stamp}
        kind = "ClusterSucceeded" if state is ClusterState.SUCCEEDED else "ClusterFailed"
        if reason:
            status["reason"] = reason
        event = run.event(kind, reason, wave=entry.wave, cluster=entry.name)
        entry = self.write(entry, status, event)
        self.unwatch(entry)
        if state is ClusterState.FAILED:
            run.failures.append(entry)

    def write(self, entry: ClusterEntry, status: Manifest, event: Event) -> ClusterEntry:
        """Write a cluster's status with ``event`` appended."""
        status = {**status, "events": [*status.get("events", []), event.dump()]}
        return ClusterEntry(self.store.update_status({**entry.manifest, "status": status}))
