"""Reconcile stages about the rollout as a whole: follow ``spec.revision``, apply its prerequisites, act on a resume.

1. a new ``spec.revision`` restarts the rollout (:func:`track_revision`), which waits until every ClusterRollout
   of the revision is in the informer cache;
2. the revision's namespaces and class revisions are applied once, before any cluster (:func:`prerequisites`);
3. a new ``fleetc.io/retry`` annotation (``resume``) puts the failed clusters of the current wave back to pending
   and lifts a halt (:func:`retry_failed`).
Caller: :class:`fleetc.rollout.controller.RolloutController`, first in each reconcile.
"""

from __future__ import annotations

from fleetc.core.keys import ObjectKey
from fleetc.rollout.model import FLEET_REVISION, GROUP, RETRY_ANNOTATION, ClusterState, RolloutStatus
from fleetc.rollout.reconcile_waves import started_text
from fleetc.rollout.scope import Scope

_ATTEMPT_FIELDS = ("reason", "finishedAt", "controlPlaneHealthyAt")


def track_revision(scope: Scope) -> bool:
    """Restart on a new revision; True once every ClusterRollout of the revision is in the cache."""
    run, spec = scope.run, scope.run.spec
    if run.status.revision != spec.revision:
        old = run.status
        run.status = RolloutStatus(
            revision=spec.revision,
            wave=spec.waves[0].name,
            started_at=run.stamp,
            sequence=old.sequence,
            retried=old.retried,
        )
        scope.workloads.forget(run.key)
        size = sum(w.size for w in spec.waves)
        run.event("RolloutStarted", f"revision {spec.revision}: {size} clusters in {len(spec.waves)} waves")
    expected = sum(w.size for w in spec.waves)
    return scope.informer.rollouts.carrying(run.rid, spec.revision) == expected


def prerequisites(scope: Scope) -> bool:
    """Apply the revision's namespaces and class revisions once, before any cluster."""
    run = scope.run
    if run.status.prerequisites == run.spec.revision:
        return True
    revision = scope.store.find(ObjectKey(GROUP, FLEET_REVISION, run.key.namespace, run.key.name))
    if revision is None or revision["spec"]["revision"] != run.spec.revision:
        return False
    objects = revision["spec"]["objects"]
    for obj in objects:
        scope.workloads.apply_shared(obj)
    run.status.prerequisites = run.spec.revision
    run.event("PrerequisitesApplied", f"{len(objects)} objects (namespaces and class revisions)")
    first = run.spec.waves[0]
    run.event("WaveStarted", started_text(first), wave=first.name)
    return True


def retry_failed(scope: Scope) -> None:
    """A new retry token: the failed clusters of the current wave go back to pending, a halt is lifted."""
    run = scope.run
    token = run.rollout["metadata"].get("annotations", {}).get(RETRY_ANNOTATION)
    if token is None or token == run.status.retried:
        return
    run.status.retried = token
    if run.status.completed_at is not None:
        return
    failed = scope.entries(run.wave.name, ClusterState.FAILED)
    for entry in failed:
        status = {k: v for k, v in entry.status.items() if k not in _ATTEMPT_FIELDS}
        event = run.event("Retried", f"attempt {entry.attempts + 1}", wave=entry.wave, cluster=entry.name)
        scope.write(entry, {**status, "state": str(ClusterState.PENDING)}, event)
    if failed:
        run.status.soak_until = None  # the wave is not done any more; it soaks again once it is
    if run.status.halt_reason is not None or failed:
        run.status.halt_reason = None
        run.event("Resumed", f"retrying {len(failed)} failed clusters", wave=run.wave.name)
