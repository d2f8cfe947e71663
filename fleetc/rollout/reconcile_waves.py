"""Reconcile stages about waves: halt over budget, move from a finished wave to the next, start clusters.

Each consults the wave gates (:data:`fleetc.rollout.wavegates.GATES`) rather than knowing the rules itself:

- :func:`judge`: a gate's ``halt`` (the failure budget) → ``Halted``: nothing starts any more, clusters in flight
  are left alone (still judged), the halt reason names the cluster, the object and the condition;
- :func:`advance`: a wave whose clusters are all done waits while a gate ``hold``s it (the soak), then the next wave
  starts (the last completes the rollout); a paused rollout does not move on;
- :func:`start`: while neither halted, paused nor complete, pending clusters of the current wave start, in order,
  as many as every gate leaves ``free`` (``maxConcurrent``; none while soaking or before a required approval),
  only inside their maintenance window (:mod:`fleetc.rollout.wavegates.window`). Clusters not started are never
  touched.
:func:`save` writes the status (phase, per-wave counts) when it changed.
Caller: :class:`fleetc.rollout.controller.RolloutController`.
"""

from __future__ import annotations

from fleetc.rollout import wavegates
from fleetc.rollout.conditions import rollout_conditions
from fleetc.rollout.model import ClusterState, Phase, RolloutSpec, RolloutStatus, WaveSpec
from fleetc.rollout.reconcile_clusters import start_cluster
from fleetc.rollout.scope import Scope
from fleetc.rollout.wavegates import window
from fleetc.rollout.wavegates.soak import completed_text
from fleetc.schema.types import format_duration


def judge(scope: Scope) -> None:
    """Halt when a gate says the current wave must stop (its failures exceed its budget)."""
    run = scope.run
    if run.status.halt_reason is not None:
        return
    wave = run.wave
    reason = next(filter(None, (gate.halt(scope, wave) for gate in wavegates.GATES)), None)
    if reason is not None:
        run.status.halt_reason = reason
        run.event("Halted", reason, wave=wave.name)


def advance(scope: Scope) -> None:
    """Hold a finished wave while a gate asks to, then start the next; complete after the last."""
    run = scope.run
    while run.status.halt_reason is None and run.status.completed_at is None:
        wave = run.wave
        if scope.count(wave.name, ClusterState.PENDING) + scope.count(wave.name, ClusterState.IN_FLIGHT):
            return
        if run.index == len(run.spec.waves) - 1:
            _complete(scope)
            return
        if any(gate.hold(scope, wave) for gate in wavegates.GATES):
            return
        if run.spec.paused:
            return
        announced = [gate.release(scope, wave) for gate in wavegates.GATES]
        if not any(announced):
            run.event("WaveCompleted", completed_text(scope, wave), wave=wave.name)
        following = run.spec.waves[run.index + 1]
        run.status.wave = following.name
        run.event("WaveStarted", started_text(following), wave=following.name)


def _complete(scope: Scope) -> None:
    run = scope.run
    run.status.completed_at = run.stamp
    totals = [scope.counts(w) for w in run.spec.waves]
    succeeded, failed = sum(c.succeeded for c in totals), sum(c.failed for c in totals)
    message = f"{succeeded} clusters succeeded, {failed} failed"
    if failed:
        names = [e.name for w in run.spec.waves for e in scope.entries(w.name, ClusterState.FAILED)]
        message += f" within their waves' failure budgets: {', '.join(names)}"
    run.event("Completed", message)


def start(scope: Scope) -> None:
    """Start pending clusters of the current wave, as many as the gates leave free."""
    run = scope.run
    if run.status.halt_reason or run.status.completed_at or run.spec.paused:
        return
    wave = run.wave
    limits = [limit for limit in (gate.free(scope, wave) for gate in wavegates.GATES) if limit is not None]
    free = min(limits, default=wave.size)
    index = scope.informer.rollouts
    if not wave.windowed:
        for name in index.next_pending(run.rid, wave.name, free):
            start_cluster(scope, index.entry(run.rid, name))
        return
    if free <= 0:
        return
    pending = (index.entry(run.rid, name) for name in index.next_pending(run.rid, wave.name, wave.size))
    for entry in window.admit(scope, wave, pending, free):
        start_cluster(scope, entry)


def save(scope: Scope) -> None:
    """Write the status (observed generation, per-wave counts, phase and its events) when it changed."""
    run = scope.run
    status = run.status
    status.observed_generation = int(run.rollout["metadata"].get("generation", 0))
    status.waves = [scope.counts(w) for w in run.spec.waves]
    status.progress = f"{sum(c.succeeded for c in status.waves)}/{sum(w.size for w in run.spec.waves)}"
    phase = _phase(status, run.spec)
    was = Phase(run.original.get("phase", Phase.PROGRESSING))
    if phase is Phase.PAUSED and was is not Phase.PAUSED:
        run.event("Paused", wave=status.wave)
    elif was is Phase.PAUSED and phase is not Phase.PAUSED and status.revision == run.original.get("revision"):
        run.event("Resumed", wave=status.wave)
    status.phase = phase
    previous = run.original.get("conditions", [])
    status.conditions = rollout_conditions(status, previous, stamp=run.stamp, generation=status.observed_generation)
    data = status.dump()
    if data != run.original:
        scope.store.update_status({**run.rollout, "status": data})


def _phase(status: RolloutStatus, spec: RolloutSpec) -> Phase:
    if status.halt_reason is not None:
        return Phase.HALTED
    if status.completed_at is not None:
        return Phase.COMPLETE
    if spec.paused:
        return Phase.PAUSED
    if status.awaiting_approval is not None:
        return Phase.AWAITING_APPROVAL
    return Phase.SOAKING if status.soak_until is not None else Phase.PROGRESSING


def started_text(wave: WaveSpec) -> str:
    """The message of a ``WaveStarted`` event: the wave's size and gates."""
    return (
        f"{wave.size} clusters, at most {wave.max_concurrent} at once, failure budget {wave.failure_budget}, "
        f"control plane deadline {format_duration(wave.control_plane_deadline_seconds)}, "
        f"soak {format_duration(wave.soak_seconds)}"
    )
