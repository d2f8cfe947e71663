"""What the CLI does with rollouts: submit a compiled revision, pause, resume, and read the state for display.

Callers: ``fleetc apply`` / ``fleetc simulate`` (:func:`submit`, then run the manager until :func:`settled`),
``fleetc rollout status|pause|resume|approve`` and ``fleetc status`` (:func:`read_rollout`, :func:`pause`,
:func:`resume`, :func:`approve`, :func:`cluster_verdict`). Every function takes a
:class:`~fleetc.runtime.store.Store`, so the same calls work on the embedded store and on a real management cluster.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from fleetc.contract.timestamps import timestamp
from fleetc.contract.vocabulary import CLUSTER_NAME_LABEL, WORKLOAD_KINDS
from fleetc.core.errors import Conflict, UnknownWaveError
from fleetc.core.keys import Manifest, ObjectKey
from fleetc.rollout import removal
from fleetc.rollout.desired import RolloutPlan, rollout_objects
from fleetc.rollout.entries import ClusterEntry, timeline_of
from fleetc.rollout.gates import (
    ClusterObjects,
    Target,
    Verdict,
    evaluate,
)
from fleetc.rollout.model import (
    CLUSTER_ROLLOUT,
    GROUP,
    RETRY_ANNOTATION,
    ROLLOUT_LABEL,
    Approval,
    ClusterState,
    Event,
    Phase,
    RolloutSpec,
    RolloutStatus,
    WaveCounts,
    WaveSpec,
)
from fleetc.runtime.store import Store
from fleetc.schema.notifications import NotificationPolicy

CONFLICT_RETRIES = 5


def submit(
    store: Store, plan: RolloutPlan, *, allow_delete: bool = False, live_clusters: Sequence[Manifest] | None = None
) -> ObjectKey:
    """Create or update a fleet's rollout objects for ``plan``; the FleetRollout's key.

    Idempotent: submitting the same plan again changes nothing (so a resumed ``apply`` may always submit). A new
    revision updates the FleetRevision and the ClusterRollouts first and the FleetRollout last, which restarts the
    rollout; ``spec.paused`` is kept. The fleet's live Clusters the plan no longer has are orphaned or, when marked
    for decommissioning, deleted in their wave (:mod:`fleetc.rollout.removal`); deleting needs ``allow_delete``,
    else :class:`~fleetc.core.errors.DeletionNotAllowedError` is raised before anything is written.
    ``live_clusters``: the fleet's live CAPI Clusters when ``store`` does not hold them (a sharded simulation's are
    in other processes); default: the store's.
    """
    removed = removal.removals(store, plan, live_clusters)
    removal.check(removed, allow_delete=allow_delete)
    plan = removal.with_removals(plan, removed)
    rollout, revision, _ = rollout_objects(plan)
    _put(store, revision)
    live = store.find(plan.key)
    if live is None:
        live = store.create(rollout)
    _, _, clusters = rollout_objects(plan, owner_uid=live["metadata"]["uid"])
    wanted = {ObjectKey.of(c) for c in clusters}
    for cluster in clusters:
        _put(store, cluster)
    for stale in store.list(GROUP, CLUSTER_ROLLOUT, plan.namespace, labels={ROLLOUT_LABEL: plan.fleet}):
        if ObjectKey.of(stale) not in wanted:
            store.delete(ObjectKey.of(stale))
    spec = {**rollout["spec"], "paused": bool(live["spec"].get("paused", False))}
    approvals = _merged(live["spec"].get("approvals", []), rollout["spec"].get("approvals", []), plan.revision)
    spec.pop("approvals", None)
    if approvals:
        spec["approvals"] = approvals  # steering, like the pause (approvals name their revision)
    if live["spec"] != spec:
        store.update({**live, "spec": spec})
    return plan.key


def _merged(live: list[Manifest], planned: list[Manifest], revision: str) -> list[Manifest]:
    """The approvals recorded for ``revision``, then the plan's for waves not approved yet (the first one stands)."""
    kept = [a for a in live if a.get("revision") == revision]
    seen = {a.get("wave") for a in kept}
    return [*kept, *(a for a in planned if a.get("wave") not in seen)]


def _put(store: Store, desired: Manifest) -> None:
    live = store.find(ObjectKey.of(desired))
    if live is None:
        store.create(desired)
        return
    metadata = {**live["metadata"], **{k: v for k, v in desired["metadata"].items() if k != "name"}}
    if live["spec"] != desired["spec"] or metadata != live["metadata"]:
        store.update({**live, "metadata": metadata, "spec": desired["spec"]})


def pause(store: Store, key: ObjectKey) -> None:
    """Stop starting clusters (clusters in flight carry on; a soak timer keeps running)."""
    _edit(store, key, lambda rollout: rollout["spec"].__setitem__("paused", True))


def resume(store: Store, key: ObjectKey) -> None:
    """Unpause, and retry the failed clusters of the current wave (which lifts a halt)."""

    def edit(rollout: Manifest) -> None:
        rollout["spec"]["paused"] = False
        annotations = rollout["metadata"].setdefault("annotations", {})
        annotations[RETRY_ANNOTATION] = str(int(annotations.get(RETRY_ANNOTATION, "0")) + 1)

    _edit(store, key, edit)


def approve(store: Store, key: ObjectKey, wave: str, *, by: str, at: float) -> Approval:
    """Record that ``by`` approved ``wave`` of the rollout's current revision at ``at`` (idempotent: a wave approved
    already keeps its first approval); :class:`UnknownWaveError` when the rollout has no such wave."""
    recorded: list[Approval] = []

    def edit(rollout: Manifest) -> None:
        spec = RolloutSpec.model_validate(rollout["spec"])
        names = [w.name for w in spec.waves]
        if wave not in names:
            raise UnknownWaveError(f"rollout {key.name} has no wave {wave!r} (its waves: {', '.join(names)})")
        existing = spec.approval(wave)
        if existing is not None:
            recorded[:] = [existing]
            return
        approval = Approval(wave=wave, revision=spec.revision, by=by, at=timestamp(at))
        kept = [a for a in rollout["spec"].get("approvals", []) if a.get("revision") == spec.revision]
        rollout["spec"]["approvals"] = [*kept, approval.dump()]
        recorded[:] = [approval]

    _edit(store, key, edit)
    return recorded[0]


def _edit(store: Store, key: ObjectKey, change: Any) -> None:
    for attempt in range(CONFLICT_RETRIES):
        rollout = store.get(key)
        change(rollout)
        try:
            store.update(rollout)
            return
        except Conflict:
            if attempt == CONFLICT_RETRIES - 1:
                raise


def settled(
    store: Store, key: ObjectKey, *, wait_when_paused: bool = False, approving: Callable[[str], bool] | None = None
) -> bool:
    """True when the rollout has seen its latest spec and resume request and is complete, halted, or paused with no
    cluster in flight, or waiting for an approval (nothing will happen until someone resumes or approves it).

    What ``apply`` waits for; after :func:`resume` it is False until the controller has acted on the resume. With
    ``wait_when_paused`` a paused rollout (or one waiting for approval) is never settled: a running ``apply`` that
    others can steer (a management cluster, or ``--local`` in real time) honours a pause by waiting for the resume.
    ``approving(wave)`` True: someone is sure to approve that wave (a simulation's approver), so waiting is not settled.
    """
    rollout = store.find(key)
    if rollout is None:
        return False
    status = rollout.get("status") or {}
    token = rollout["metadata"].get("annotations", {}).get(RETRY_ANNOTATION)
    observed = (
        status.get("revision") == rollout["spec"]["revision"]
        and status.get("observedGeneration") == rollout["metadata"].get("generation")
        and (token is None or status.get("retried") == token)
    )
    if not observed:
        return False
    waiting = status.get("phase") == Phase.AWAITING_APPROVAL
    if waiting and approving is not None and approving(str(status.get("awaitingApproval", ""))):
        return False  # a simulated approver will approve it (fleetc.engine.sim_approvals)
    if status.get("phase") in (Phase.PAUSED, Phase.AWAITING_APPROVAL):
        return not wait_when_paused and not any(wave.get("inFlight", 0) for wave in status.get("waves", []))
    return status.get("phase") in (Phase.COMPLETE, Phase.HALTED)


@dataclass(frozen=True)
class ClusterView:
    """One cluster of a rollout, for display."""

    name: str
    namespace: str
    wave: str
    state: ClusterState
    version: str
    class_ref: str | None
    attempts: int
    started_at: str | None
    finished_at: str | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return {
            "name": self.name,
            "namespace": self.namespace,
            "wave": self.wave,
            "state": str(self.state),
            "version": self.version,
            "classRef": self.class_ref,
            "attempts": self.attempts,
            "startedAt": self.started_at,
            "finishedAt": self.finished_at,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class RolloutView:
    """A rollout as ``fleetc rollout status`` shows it."""

    name: str
    namespace: str
    revision: str
    phase: Phase
    paused: bool
    wave: str
    halt_reason: str | None
    soak_until: str | None
    started_at: str | None
    completed_at: str | None
    waves: tuple[tuple[WaveSpec, WaveCounts], ...]
    clusters: tuple[ClusterView, ...]
    timeline: tuple[Event, ...]
    awaiting_approval: str | None = None
    """The wave waiting for ``fleetc rollout approve``."""
    approvals: tuple[Approval, ...] = ()
    notifications: NotificationPolicy | None = None
    """The fleet's receivers (display: which timeline entries notify whom)."""
    stuck: bool = False
    """The run that produced this view ran out of work before the rollout completed, halted or paused."""

    @property
    def halted(self) -> bool:
        """True when the rollout stopped on failures (exit code 3)."""
        return self.phase is Phase.HALTED

    @property
    def unfinished(self) -> bool:
        """True when the rollout neither completed nor halted: paused, or stuck (exit code 5)."""
        return self.stuck or self.phase in (Phase.PAUSED, Phase.AWAITING_APPROVAL)

    @property
    def failed_clusters(self) -> tuple[str, ...]:
        """The clusters that failed (on a complete rollout: within their waves' failure budgets)."""
        return tuple(c.name for c in self.clusters if c.state is ClusterState.FAILED)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON output (times come from the clock: virtual runs are reproducible)."""
        return {
            "name": self.name,
            "namespace": self.namespace,
            "revision": self.revision,
            "phase": str(self.phase),
            "paused": self.paused,
            "wave": self.wave,
            "haltReason": self.halt_reason,
            "soakUntil": self.soak_until,
            **({"awaitingApproval": self.awaiting_approval} if self.awaiting_approval else {}),
            **({"approvals": [a.dump() for a in self.approvals]} if self.approvals else {}),
            "startedAt": self.started_at,
            "completedAt": self.completed_at,
            "waves": [{**spec.dump(), **counts.dump()} for spec, counts in self.waves],
            "clusters": [c.to_dict() for c in self.clusters],
            "timeline": [e.dump() for e in self.timeline],
        }


def read_rollout(store: Store, key: ObjectKey) -> RolloutView | None:
    """The rollout, its waves, its clusters and its merged timeline; None when there is no such rollout."""
    rollout = store.find(key)
    if rollout is None:
        return None
    spec = RolloutSpec.model_validate(rollout.get("spec", {}))
    status = RolloutStatus.model_validate(rollout.get("status") or {})
    if status.revision != spec.revision:
        status = RolloutStatus(revision=spec.revision, wave=spec.waves[0].name)
    entries = [
        ClusterEntry(obj)
        for obj in store.list(GROUP, CLUSTER_ROLLOUT, key.namespace, labels={ROLLOUT_LABEL: key.name})
        if obj["spec"]["rollout"] == key.name
    ]
    waves = {w.name: i for i, w in enumerate(spec.waves)}
    entries.sort(key=lambda e: (waves.get(e.wave, len(waves)), e.order, e.name))
    counts = {c.name: c for c in status.waves}
    return RolloutView(
        name=key.name,
        namespace=key.namespace,
        revision=spec.revision,
        phase=status.phase,
        paused=spec.paused,
        wave=status.wave,
        halt_reason=status.halt_reason,
        soak_until=status.soak_until,
        started_at=status.started_at,
        completed_at=status.completed_at,
        waves=tuple((w, counts.get(w.name, WaveCounts(name=w.name, pending=w.size))) for w in spec.waves),
        clusters=tuple(_cluster_view(e) for e in entries),
        timeline=tuple(timeline_of(rollout, entries)),
        awaiting_approval=status.awaiting_approval,
        approvals=tuple(a for a in spec.approvals if a.revision == spec.revision),
        notifications=spec.notifications,
    )


def _cluster_view(entry: ClusterEntry) -> ClusterView:
    status = entry.status
    return ClusterView(
        name=entry.name,
        namespace=entry.namespace,
        wave=entry.wave,
        state=entry.state,
        version=entry.version,
        class_ref=entry.class_ref,
        attempts=entry.attempts,
        started_at=status.get("startedAt"),
        finished_at=status.get("finishedAt"),
        reason=entry.reason,
    )


def cluster_objects(store: Store, namespace: str, cluster: str) -> ClusterObjects:
    """A workload cluster's CAPI objects, listed from the store (for one-off reads such as ``fleetc status``)."""
    found: list[Manifest] = []
    for group, kind in WORKLOAD_KINDS:
        if kind == "Cluster":
            obj = store.find(ObjectKey(group, kind, namespace, cluster))
            found.extend([obj] if obj is not None else [])
        else:
            found.extend(store.list(group, kind, namespace, labels={CLUSTER_NAME_LABEL: cluster}))
    return ClusterObjects.of(found)


def cluster_verdict(store: Store, namespace: str, cluster: str, target: Target) -> Verdict:
    """The gate's verdict on one workload cluster, read live from the store."""
    return evaluate(cluster_objects(store, namespace, cluster), target)
