"""Reconcile stages about single clusters: judge those that need it, start pending ones, apply their objects.

- :func:`observe`: clusters in flight are judged by the health gate (:func:`~fleetc.rollout.gates.evaluate`):
  healthy → ``Succeeded``; failed → ``Failed``; a cluster still progressing is put to the wave gates' ``expire``
  (the control-plane deadline, the progress deadline); while a wave soaks its clusters are judged too, and a
  failure there counts. Only the clusters whose verdict changed or whose deadline came are judged (all of them
  once after a restart: :mod:`fleetc.rollout.watching`), so a reconcile costs what changed, not the fleet's size;
- :func:`start_cluster`: the desired objects are applied through the injected ``apply`` (nothing is written when
  the live Cluster already holds them) and the ClusterRollout becomes ``InFlight``; an ``apply`` that raises
  :class:`~fleetc.runtime.manager.TerminalError` fails the cluster, any other error is retried with backoff. A
  Kubernetes version is never lowered: a desired version below the live one fails the cluster instead. A cluster in
  flight whose live Cluster lost its target is applied again (level-triggered).
Clusters that left the spec (ClusterRollouts with ``spec.action``) are handed to :mod:`fleetc.rollout.removal`.
Callers: :class:`fleetc.rollout.controller.RolloutController` and :mod:`fleetc.rollout.reconcile_waves`.
"""

from __future__ import annotations

from fleetc.core.keys import Manifest
from fleetc.rollout import removal, wavegates
from fleetc.rollout.entries import ClusterEntry
from fleetc.rollout.gates import Health
from fleetc.rollout.model import ClusterState
from fleetc.rollout.scope import Scope


def observe(scope: Scope) -> None:
    """Judge the clusters that need it: all in flight after a restart, then those changed or past a deadline."""
    run = scope.run
    for entry in sorted(_to_judge(scope), key=run.order):
        soaking = run.status.soak_until is not None and entry.wave == run.wave.name
        if removal.is_removal(entry):
            removal.observe(scope, entry)
        elif entry.state is ClusterState.IN_FLIGHT:
            observe_in_flight(scope, entry)
        elif entry.state is ClusterState.SUCCEEDED and soaking:
            scope.observe_soaking(entry)
        else:
            scope.unwatch(entry)
    deadline = scope.watch.next_deadline(run.key)
    if deadline is not None:
        run.wakeups.append(deadline)


def _to_judge(scope: Scope) -> list[ClusterEntry]:
    run, index, watch = scope.run, scope.informer.rollouts, scope.watch
    if run.key in watch.synced:
        names = watch.take_changed(run.key) | watch.due(run.key, run.now)
    else:
        watch.synced.add(run.key)
        waves = run.spec.waves[: run.index + 1]
        names = {n for w in waves for n in index.names(run.rid, w.name, ClusterState.IN_FLIGHT)}
        if run.status.soak_until is not None:
            names |= set(index.names(run.rid, run.wave.name, ClusterState.SUCCEEDED))
    found = (index.find(run.rid, name) for name in names)
    return [entry for entry in found if entry is not None]


def observe_in_flight(scope: Scope, entry: ClusterEntry) -> None:
    """Act on the verdict of a cluster in flight."""
    run = scope.run
    verdict = scope.judged(entry)
    if verdict.health is Health.PROGRESSING and _reapply_if_reverted(scope, entry):
        return
    if verdict.health is Health.FAILED:
        scope.finish(entry, ClusterState.FAILED, verdict.reason)
        return
    if verdict.health is Health.HEALTHY:
        scope.finish(entry, ClusterState.SUCCEEDED, "")
        return
    if verdict.control_plane is Health.HEALTHY and not entry.control_plane_healthy:
        event = run.event("ControlPlaneHealthy", wave=entry.wave, cluster=entry.name)
        entry = scope.write(entry, {**entry.status, "controlPlaneHealthyAt": run.stamp}, event)
    reason = next(filter(None, (gate.expire(scope, entry, verdict) for gate in wavegates.GATES)), None)
    if reason is not None:
        scope.finish(entry, ClusterState.FAILED, reason)


def start_cluster(scope: Scope, entry: ClusterEntry) -> None:
    """Apply a pending cluster's objects and put it in flight (or fail it when the apply is refused)."""
    if removal.is_removal(entry):
        removal.start(scope, entry)
        return
    run = scope.run
    attempt = entry.attempts + 1
    machines = scope.workloads.machine_names((entry.namespace, entry.name))
    status: Manifest = {
        **{k: v for k, v in entry.status.items() if k not in ("reason", "preexistingMachines")},
        "revision": entry.spec["revision"],
        "state": str(ClusterState.IN_FLIGHT),
        "attempts": attempt,
        "startedAt": run.stamp,
    }
    if machines:
        status["preexistingMachines"] = machines
    refusal, applied = _apply_cluster(scope, entry)
    if not applied and (entry.attempts == 0 or entry.status.get("unchanged")):
        status["unchanged"] = True  # the live cluster already ran the target: nothing to soak for
    else:
        status.pop("unchanged", None)
    event = run.event("ClusterStarted", f"attempt {attempt}", wave=entry.wave, cluster=entry.name)
    entry = scope.write(entry, status, event)
    if refusal is not None:
        scope.finish(entry, ClusterState.FAILED, refusal)
        return
    observe_in_flight(scope, entry)


def _apply_cluster(scope: Scope, entry: ClusterEntry) -> tuple[str | None, bool]:
    """Apply a cluster's desired objects unless the live Cluster holds them: (a refusal reason, whether applied)."""
    cluster = (entry.namespace, entry.name)
    return scope.workloads.apply_cluster(cluster, entry.cluster_object(), entry.spec["objects"], entry.version)


def _reapply_if_reverted(scope: Scope, entry: ClusterEntry) -> bool:
    """A cluster in flight whose live Cluster lost its target is applied again (level-triggered); True if failed."""
    if scope.workloads.live_topology((entry.namespace, entry.name)) == (entry.version, entry.class_ref):
        return False
    refusal, _ = _apply_cluster(scope, entry)
    if refusal is not None:
        scope.finish(entry, ClusterState.FAILED, refusal)
    return refusal is not None
