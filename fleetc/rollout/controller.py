"""The rollout controller: moves a fleet to a compiled revision wave by wave, and halts when clusters fail.

Level-triggered reconciler of ``FleetRollout`` objects (runtime contract: :mod:`fleetc.runtime.manager`). Each
reconcile reads the rollout, its ClusterRollouts and the workload clusters' CAPI objects from an informer cache
(:mod:`fleetc.rollout.cache`), then runs small stages in order:

1. a new ``spec.revision`` restarts the rollout; the revision's namespaces and class revisions are applied first;
2. a new ``fleetc.io/retry`` annotation (``resume``) puts the failed clusters of the current wave back to pending
   and lifts a halt;
3. clusters in flight are judged by the gate (:func:`~fleetc.rollout.gates.evaluate`): healthy →
   ``Succeeded``; failed → ``Failed``; a control plane not healthy ``controlPlaneDeadlineSeconds`` after the
   cluster started → ``Failed``; while a wave soaks its clusters are judged too, and a failure there counts. Only
   the clusters whose verdict changed or whose deadline came are judged (all of them once after a restart:
   :mod:`fleetc.rollout.watching`), so a reconcile costs what changed, not the fleet's size;
4. more failures in the current wave than its ``failureBudget`` → ``Halted``: nothing starts any more, clusters in
   flight are left alone (still judged), the halt reason names the cluster, the object and the condition;
5. a wave whose clusters are all done soaks for ``soakSeconds``, then the next wave starts (the last does not soak);
6. while neither halted, paused nor soaking, clusters of the current wave start, in order, until ``maxConcurrent``
   are in flight: the desired objects are applied through the injected ``apply`` (nothing is written when the
   live Cluster already holds them) and the ClusterRollout becomes ``InFlight``; an ``apply`` that raises
   :class:`~fleetc.runtime.manager.TerminalError` fails the cluster, any other error is retried with backoff.
   A Kubernetes version is never lowered: a desired version below the live one fails the cluster instead.
   Clusters not started are never touched.
Deadlines and soaks requeue with ``requeue_after``; a change to a watched cluster's objects enqueues the rollout only
when that cluster's verdict changes (checked by a small companion reconciler, :class:`VerdictChecks`, at most once per
cluster per instant). Every time written comes from the clock, so virtual-time runs are reproducible.
Callers: the CLI (``fleetc apply``/``simulate`` through :func:`install`) and tests.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from fleetc.core.errors import TerminalError
from fleetc.core.keys import Manifest, ObjectKey
from fleetc.rollout.applying import Apply, contains, store_applier
from fleetc.rollout.cache import ClusterId, Informer, RolloutId
from fleetc.rollout.gates import Health, Target, Verdict
from fleetc.rollout.model import (
    FLEET_REVISION,
    FLEET_ROLLOUT,
    GROUP,
    RETRY_ANNOTATION,
    ClusterEntry,
    ClusterState,
    Event,
    Phase,
    RolloutSpec,
    RolloutStatus,
    WaveCounts,
    WaveSpec,
)
from fleetc.rollout.watching import Watchlist
from fleetc.runtime.clock import Clock, parse_timestamp, timestamp
from fleetc.runtime.manager import DONE, Manager, Request, Result, Watch
from fleetc.runtime.store import Store, copy
from fleetc.schema.types import format_duration

NAME = "fleetrollout"
CHECKS = "fleetrollout-verdicts"
VERDICT_KIND = "ClusterVerdict"
"""The kind of the keys :class:`VerdictChecks` is queued with (no object of this kind exists)."""
CHECK_DELAY = 0.001
"""How long after a change a cluster's verdict is checked: every write made at the same instant is in by then."""
_ATTEMPT_FIELDS = ("reason", "finishedAt", "controlPlaneHealthyAt")
WAIT_SECONDS = 5.0
"""How long to wait for objects a rollout needs that are not in the store yet (its FleetRevision, ClusterRollouts)."""


@dataclass
class _Run:
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
    def begin(cls, rollout: Manifest, now: float) -> _Run:
        original = rollout.get("status") or {}
        key = ObjectKey.of(rollout)
        return cls(key, rollout, RolloutSpec.of(rollout), RolloutStatus.of(original), original, now)

    @property
    def rid(self) -> RolloutId:
        return self.key.namespace, self.key.name

    @property
    def index(self) -> int:
        names = [w.name for w in self.spec.waves]
        return names.index(self.status.wave) if self.status.wave in names else 0

    @property
    def wave(self) -> WaveSpec:
        return self.spec.waves[self.index]

    @property
    def stamp(self) -> str:
        return timestamp(self.now)

    def event(self, kind: str, message: str = "", *, wave: str = "", cluster: str = "") -> Event:
        """A new event (the rollout's own events go to its timeline)."""
        self.status.sequence += 1
        event = Event(self.status.sequence, self.stamp, kind, message, wave, cluster)
        if not cluster:
            self.status.timeline.append(event)
        return event

    def wakeup(self) -> float | None:
        return max(min(self.wakeups) - self.now, 0.0) if self.wakeups else None

    def order(self, entry: ClusterEntry) -> tuple[int, int, str]:
        names = [w.name for w in self.spec.waves]
        return (names.index(entry.wave) if entry.wave in names else len(names), entry.order, entry.name)

    def wave_of(self, entry: ClusterEntry) -> WaveSpec:
        return next((w for w in self.spec.waves if w.name == entry.wave), self.wave)


class RolloutController:
    """Reconciles ``FleetRollout`` objects (see the module docstring for the stages)."""

    name = NAME
    group = GROUP
    kind = FLEET_ROLLOUT

    def __init__(
        self,
        store: Store,
        clock: Clock,
        apply: Apply,
        enqueue: Callable[[ObjectKey], None] | None = None,
        schedule: Callable[[ClusterId], None] | None = None,
    ) -> None:
        """``enqueue`` queues a rollout; ``schedule`` queues a verdict check (default: check at once)."""
        self._store, self._clock, self._apply = store, clock, apply
        self.informer = Informer(store, self._on_workload_change)
        self._watch = Watchlist(self.informer.workloads.objects, enqueue or (lambda key: None), schedule)
        self.checks = VerdictChecks(self._watch)

    def _on_workload_change(self, cluster: ClusterId) -> None:
        self._watch.on_change(cluster)

    def watches(self) -> list[Watch]:
        """None through the manager: the informer watches CAPI objects (with deletions) and enqueues rollouts."""
        return []

    def reconcile(self, request: Request) -> Result:
        rollout = self._store.find(request.key)
        if rollout is None or rollout["metadata"].get("deletionTimestamp"):
            self._watch.forget(request.key)
            return DONE
        run = _Run.begin(rollout, self._clock.now())
        if not (self._track_revision(run) and self._prerequisites(run)):
            self._save(run)
            return Result(requeue_after=WAIT_SECONDS)
        self._retry_failed(run)
        self._observe(run)
        self._judge(run)
        self._advance(run)
        self._start(run)
        self._judge(run)
        self._save(run)
        return Result(requeue_after=run.wakeup())

    # --- stages ------------------------------------------------------------------------------------------------------

    def _track_revision(self, run: _Run) -> bool:
        """Restart on a new revision; True once every ClusterRollout of the revision is in the cache."""
        spec = run.spec
        if run.status.revision != spec.revision:
            old = run.status
            run.status = RolloutStatus(
                revision=spec.revision,
                wave=spec.waves[0].name,
                started_at=run.stamp,
                sequence=old.sequence,
                retried=old.retried,
            )
            self._watch.forget(run.key)
            size = sum(w.size for w in spec.waves)
            run.event("RolloutStarted", f"revision {spec.revision}: {size} clusters in {len(spec.waves)} waves")
        expected = sum(w.size for w in spec.waves)
        return self.informer.rollouts.carrying(run.rid, spec.revision) == expected

    def _prerequisites(self, run: _Run) -> bool:
        """Apply the revision's namespaces and class revisions once, before any cluster."""
        if run.status.prerequisites == run.spec.revision:
            return True
        revision = self._store.find(ObjectKey(GROUP, FLEET_REVISION, run.key.namespace, run.key.name))
        if revision is None or revision["spec"]["revision"] != run.spec.revision:
            return False
        objects = revision["spec"]["objects"]
        for obj in objects:
            self._apply(obj)
        run.status.prerequisites = run.spec.revision
        run.event("PrerequisitesApplied", f"{len(objects)} objects (namespaces and class revisions)")
        first = run.spec.waves[0]
        run.event("WaveStarted", _wave_text(first), wave=first.name)
        return True

    def _retry_failed(self, run: _Run) -> None:
        """A new retry token: the failed clusters of the current wave go back to pending, a halt is lifted."""
        token = run.rollout["metadata"].get("annotations", {}).get(RETRY_ANNOTATION)
        if token is None or token == run.status.retried:
            return
        run.status.retried = token
        if run.status.completed_at is not None:
            return
        failed = self.informer.rollouts.names(run.rid, run.wave.name, ClusterState.FAILED)
        for name in failed:
            entry = self.informer.rollouts.entry(run.rid, name)
            status = {k: v for k, v in entry.status.items() if k not in _ATTEMPT_FIELDS}
            event = run.event("Retried", f"attempt {entry.attempts + 1}", wave=entry.wave, cluster=entry.name)
            self._write(entry, {**status, "state": str(ClusterState.PENDING)}, event)
        if failed:
            run.status.soak_until = None  # the wave is not done any more; it soaks again once it is
        if run.status.halt_reason is not None or failed:
            run.status.halt_reason = None
            run.event("Resumed", f"retrying {len(failed)} failed clusters", wave=run.wave.name)

    def _observe(self, run: _Run) -> None:
        """Judge the clusters that need it: all in flight after a restart, then those changed or past a deadline."""
        for entry in sorted(self._to_judge(run), key=run.order):
            soaking = run.status.soak_until is not None and entry.wave == run.wave.name
            if entry.state is ClusterState.IN_FLIGHT:
                self._observe_in_flight(run, entry)
            elif entry.state is ClusterState.SUCCEEDED and soaking:
                self._observe_soaking(run, entry)
            else:
                self._watch.unwatch(run.key, (entry.namespace, entry.name))
        deadline = self._watch.next_deadline(run.key)
        if deadline is not None:
            run.wakeups.append(deadline)

    def _to_judge(self, run: _Run) -> list[ClusterEntry]:
        index = self.informer.rollouts
        if run.key in self._watch.synced:
            names = self._watch.take_changed(run.key) | self._watch.due(run.key, run.now)
        else:
            self._watch.synced.add(run.key)
            waves = run.spec.waves[: run.index + 1]
            names = {n for w in waves for n in index.names(run.rid, w.name, ClusterState.IN_FLIGHT)}
            if run.status.soak_until is not None:
                names |= set(index.names(run.rid, run.wave.name, ClusterState.SUCCEEDED))
        found = (index.find(run.rid, name) for name in names)
        return [entry for entry in found if entry is not None]

    def _observe_in_flight(self, run: _Run, entry: ClusterEntry) -> None:
        verdict = self._judged(run, entry)
        if verdict.health is Health.PROGRESSING and self._reapply_if_reverted(run, entry):
            return
        if verdict.health is Health.FAILED:
            self._finish(run, entry, ClusterState.FAILED, verdict.reason)
        elif verdict.health is Health.HEALTHY:
            self._finish(run, entry, ClusterState.SUCCEEDED, "")
        elif verdict.control_plane is Health.HEALTHY and not entry.control_plane_healthy:
            event = run.event("ControlPlaneHealthy", wave=entry.wave, cluster=entry.name)
            self._write(entry, {**entry.status, "controlPlaneHealthyAt": run.stamp}, event)
        elif verdict.control_plane is not Health.HEALTHY and not entry.control_plane_healthy:
            self._check_deadline(run, entry, verdict)

    def _check_deadline(self, run: _Run, entry: ClusterEntry, verdict: Verdict) -> None:
        """A control plane not healthy ``controlPlaneDeadlineSeconds`` after its cluster started fails the cluster."""
        seconds = run.wave_of(entry).control_plane_deadline_seconds
        deadline = (entry.started_at or run.now) + seconds
        if run.now < deadline:
            self._watch.set_deadline(run.key, entry.name, deadline)
            return
        reason = f"cluster {entry.name}: control plane not healthy within {format_duration(seconds)}: {verdict.finding}"
        self._finish(run, entry, ClusterState.FAILED, reason)

    def _observe_soaking(self, run: _Run, entry: ClusterEntry) -> None:
        """While a wave soaks, a cluster of it that fails counts against the wave's budget."""
        verdict = self._judged(run, entry)
        if verdict.health is Health.FAILED:
            self._finish(run, entry, ClusterState.FAILED, f"failed while its wave soaked: {verdict.reason}")

    def _judge(self, run: _Run) -> None:
        """Halt when the current wave's failures exceed its budget."""
        wave = run.wave
        failed = self.informer.rollouts.count(run.rid, wave.name, ClusterState.FAILED)
        if run.status.halt_reason is not None or failed <= wave.failure_budget:
            return
        recent = [entry for entry in run.failures if entry.wave == wave.name]
        culprit = recent[-1] if recent else self._latest_failure(run)
        run.status.halt_reason = (
            f"wave {wave.name}: {failed} of {wave.size} clusters failed, over its failure budget of "
            f"{wave.failure_budget}: {culprit.reason if culprit else 'unknown'}"
        )
        run.event("Halted", run.status.halt_reason, wave=wave.name)

    def _advance(self, run: _Run) -> None:
        """Soak a finished wave, then start the next; complete after the last."""
        index = self.informer.rollouts
        while run.status.halt_reason is None and run.status.completed_at is None:
            wave = run.wave
            busy = index.count(run.rid, wave.name, ClusterState.PENDING) + index.count(
                run.rid, wave.name, ClusterState.IN_FLIGHT
            )
            if busy:
                return
            if run.index == len(run.spec.waves) - 1:
                self._complete(run)
                return
            if wave.soak_seconds and not self._soaked(run, wave):
                return
            if run.spec.paused:
                return
            if run.status.soak_until is not None:
                run.event("SoakCompleted", wave=wave.name)
                run.status.soak_until = None
                self._unwatch_wave(run, wave)
            else:
                run.event("WaveCompleted", _counts_text(self._counts(run, wave)), wave=wave.name)
            following = run.spec.waves[run.index + 1]
            run.status.wave = following.name
            run.event("WaveStarted", _wave_text(following), wave=following.name)

    def _soaked(self, run: _Run, wave: WaveSpec) -> bool:
        if run.status.soak_until is None:
            until = run.now + wave.soak_seconds
            run.status.soak_until = timestamp(until)
            run.event("WaveCompleted", _counts_text(self._counts(run, wave)), wave=wave.name)
            run.event("SoakStarted", f"until {run.status.soak_until}", wave=wave.name)
            run.wakeups.append(parse_timestamp(run.status.soak_until))
            for name in self.informer.rollouts.names(run.rid, wave.name, ClusterState.SUCCEEDED):
                self._observe_soaking(run, self.informer.rollouts.entry(run.rid, name))
            return False
        until = parse_timestamp(run.status.soak_until)
        if run.now < until:
            run.wakeups.append(until)
            return False
        return True

    def _unwatch_wave(self, run: _Run, wave: WaveSpec) -> None:
        for name in self.informer.rollouts.names(run.rid, wave.name, ClusterState.SUCCEEDED):
            entry = self.informer.rollouts.entry(run.rid, name)
            self._watch.unwatch(run.key, (entry.namespace, entry.name))

    def _complete(self, run: _Run) -> None:
        run.status.completed_at = run.stamp
        totals = [self._counts(run, w) for w in run.spec.waves]
        succeeded, failed = sum(c.succeeded for c in totals), sum(c.failed for c in totals)
        run.event("Completed", f"{succeeded} clusters succeeded, {failed} failed")

    def _start(self, run: _Run) -> None:
        """Start pending clusters of the current wave until ``maxConcurrent`` are in flight."""
        status = run.status
        if status.halt_reason or status.completed_at or status.soak_until or run.spec.paused:
            return
        wave, index = run.wave, self.informer.rollouts
        free = wave.max_concurrent - index.count(run.rid, wave.name, ClusterState.IN_FLIGHT)
        for name in index.next_pending(run.rid, wave.name, free):
            self._start_cluster(run, index.entry(run.rid, name))

    def _start_cluster(self, run: _Run, entry: ClusterEntry) -> None:
        attempt = entry.attempts + 1
        status: Manifest = {
            **{k: v for k, v in entry.status.items() if k != "reason"},
            "revision": entry.spec["revision"],
            "state": str(ClusterState.IN_FLIGHT),
            "attempts": attempt,
            "startedAt": run.stamp,
        }
        refusal = self._apply_cluster(entry)
        event = run.event("ClusterStarted", f"attempt {attempt}", wave=entry.wave, cluster=entry.name)
        entry = self._write(entry, status, event)
        if refusal is not None:
            self._finish(run, entry, ClusterState.FAILED, refusal)
            return
        self._observe_in_flight(run, entry)

    # --- clusters ----------------------------------------------------------------------------------------------------

    def _apply_cluster(self, entry: ClusterEntry) -> str | None:
        """Apply a cluster's desired objects unless the live Cluster holds them; a refusal reason for a downgrade."""
        live = self.informer.workloads.cluster((entry.namespace, entry.name))
        desired = entry.cluster_object()
        if live is not None:
            current = str(live.get("spec", {}).get("topology", {}).get("version", ""))
            if _older(entry.version, current):
                return (
                    f"cluster {entry.name}: Cluster {entry.name}: spec.topology.version: refusing to roll back "
                    f"{current} to {entry.version} (CAPI cannot downgrade a control plane)"
                )
            if contains(live, desired):
                return None
        for obj in entry.spec["objects"]:
            try:
                self._apply(copy(obj))  # the cached object is shared: the applier gets its own
            except TerminalError as exc:  # rejected for good (an admission webhook…); anything else is retried
                return f"cluster {entry.name}: {obj['kind']} {obj['metadata']['name']}: apply rejected: {exc}"
        return None

    def _reapply_if_reverted(self, run: _Run, entry: ClusterEntry) -> bool:
        """A cluster in flight whose live Cluster lost its target is applied again (level-triggered); True if failed."""
        live = self.informer.workloads.cluster((entry.namespace, entry.name))
        topology = (live or {}).get("spec", {}).get("topology", {})
        if live is not None and topology.get("version") == entry.version and _class(topology) == entry.class_ref:
            return False
        refusal = self._apply_cluster(entry)
        if refusal is not None:
            self._finish(run, entry, ClusterState.FAILED, refusal)
        return refusal is not None

    def _finish(self, run: _Run, entry: ClusterEntry, state: ClusterState, reason: str) -> None:
        status = {**entry.status, "state": str(state), "finishedAt": run.stamp}
        kind = "ClusterSucceeded" if state is ClusterState.SUCCEEDED else "ClusterFailed"
        if reason:
            status["reason"] = reason
        event = run.event(kind, reason, wave=entry.wave, cluster=entry.name)
        entry = self._write(entry, status, event)
        self._watch.unwatch(run.key, (entry.namespace, entry.name))
        if state is ClusterState.FAILED:
            run.failures.append(entry)

    def _write(self, entry: ClusterEntry, status: Manifest, event: Event) -> ClusterEntry:
        status = {**status, "events": [*status.get("events", []), event.to_dict()]}
        return ClusterEntry(self._store.update_status({**entry.manifest, "status": status}))

    def _judged(self, run: _Run, entry: ClusterEntry) -> Verdict:
        """The cluster's verdict; from now on a change of that verdict enqueues the rollout."""
        cluster = (entry.namespace, entry.name)
        target = Target(entry.version, entry.class_ref, entry.started_at)
        verdict = self._watch.verdict(cluster, target)
        self._watch.watch(run.key, cluster, target, verdict)
        return verdict

    # --- status ------------------------------------------------------------------------------------------------------

    def _latest_failure(self, run: _Run) -> ClusterEntry | None:
        failed = [
            self.informer.rollouts.entry(run.rid, name)
            for name in self.informer.rollouts.names(run.rid, run.wave.name, ClusterState.FAILED)
        ]
        return max(failed, key=lambda e: max((ev.seq for ev in e.events), default=0), default=None)

    def _counts(self, run: _Run, wave: WaveSpec) -> WaveCounts:
        index = self.informer.rollouts
        return WaveCounts(
            wave.name,
            pending=index.count(run.rid, wave.name, ClusterState.PENDING),
            in_flight=index.count(run.rid, wave.name, ClusterState.IN_FLIGHT),
            succeeded=index.count(run.rid, wave.name, ClusterState.SUCCEEDED),
            failed=index.count(run.rid, wave.name, ClusterState.FAILED),
        )

    def _save(self, run: _Run) -> None:
        status = run.status
        status.observed_generation = int(run.rollout["metadata"].get("generation", 0))
        status.waves = [self._counts(run, w) for w in run.spec.waves]
        phase = _phase(status, run.spec)
        was = Phase(run.original.get("phase", Phase.PROGRESSING))
        if phase is Phase.PAUSED and was is not Phase.PAUSED:
            run.event("Paused", wave=status.wave)
        elif was is Phase.PAUSED and phase is not Phase.PAUSED and status.revision == run.original.get("revision"):
            run.event("Resumed", wave=status.wave)
        status.phase = phase
        data = status.to_dict()
        if data != run.original:
            self._store.update_status({**run.rollout, "status": data})


def _phase(status: RolloutStatus, spec: RolloutSpec) -> Phase:
    if status.halt_reason is not None:
        return Phase.HALTED
    if status.completed_at is not None:
        return Phase.COMPLETE
    if spec.paused:
        return Phase.PAUSED
    return Phase.SOAKING if status.soak_until is not None else Phase.PROGRESSING


def _wave_text(wave: WaveSpec) -> str:
    return (
        f"{wave.size} clusters, at most {wave.max_concurrent} at once, failure budget {wave.failure_budget}, "
        f"control plane deadline {format_duration(wave.control_plane_deadline_seconds)}, "
        f"soak {format_duration(wave.soak_seconds)}"
    )


def _counts_text(counts: WaveCounts) -> str:
    return f"{counts.succeeded} succeeded, {counts.failed} failed"


def _class(topology: Manifest) -> str | None:
    value = topology.get("classRef", {}).get("name")
    return str(value) if value is not None else None


_VERSION = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)")


def _older(wanted: str, current: str) -> bool:
    """True when ``wanted`` is a lower Kubernetes version than ``current``."""
    a, b = _VERSION.match(wanted), _VERSION.match(current)
    if a is None or b is None:
        return False
    return tuple(map(int, a.groups())) < tuple(map(int, b.groups()))


class VerdictChecks:
    """The companion reconciler: checks one watched cluster's verdict and enqueues its rollout when it changed.

    Queued by the informer with keys of kind ``ClusterVerdict`` (namespace and name of the workload cluster) a moment
    after a change, so a burst of writes to one cluster costs one gate evaluation.
    """

    name = CHECKS
    group = GROUP
    kind = VERDICT_KIND

    def __init__(self, watch: Watchlist) -> None:
        self._watch = watch

    def watches(self) -> list[Watch]:
        """None: the rollout controller's informer queues the checks."""
        return []

    def reconcile(self, request: Request) -> Result:
        self._watch.check((request.key.namespace, request.key.name))
        return DONE


def install(manager: Manager, apply: Apply | None = None) -> RolloutController:
    """A rollout controller on ``manager``, applying through ``apply`` (default: straight into the manager's store)."""
    controller = RolloutController(
        manager.store,
        manager.clock,
        apply or store_applier(manager.store),
        enqueue=lambda key: manager.enqueue(NAME, key),
        schedule=lambda cluster: manager.enqueue(CHECKS, ObjectKey(GROUP, VERDICT_KIND, *cluster), CHECK_DELAY),
    )
    manager.add(controller)
    manager.add(controller.checks)
    return controller
