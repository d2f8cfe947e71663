"""The diff of two sides as one value: object changes, class revisions, per-cluster impact, policy, rollout order.

``compare(base, head)`` is the pure entry point of ``fleetc diff`` and ``fleetc plan``:
``compare(open_fleet("base", root, "origin/main"), open_fleet("head", root, None))``. When either side is a
:class:`~fleetc.plan.snapshot.SideFailure`, the report carries the failure(s) and no diff: a side that did not
compile is not compared, so it never shows as everything added or deleted. When only the base failed, the report
still says what the (valid) head holds (:class:`~fleetc.plan.snapshot.SideContents`): a broken base must not
leave the pull request that fixes it without an answer.

Formatters (:mod:`fleetc.plan.formats`) turn a report into text, markdown or JSON.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from fleetc.core.diagnostics import Diagnostic, has_errors
from fleetc.plan import causes, policy
from fleetc.plan.diff import FieldDiffer, ObjectChange, diff_sets
from fleetc.plan.impact import ClusterImpact, Effect
from fleetc.plan.impacts import cluster_impacts, revision_index
from fleetc.plan.lifecycle import LifecycleReport, lifecycle_report
from fleetc.plan.revisions import RevisionChange, pair_revisions
from fleetc.plan.rollout_order import RolloutPlan, rollout_order
from fleetc.plan.snapshot import Side, SideContents, SideFailure, Snapshot, contents_of
from fleetc.schema.dates import today


@dataclass(frozen=True)
class DiffReport:
    """Everything a diff found. Empty but for ``failures`` when a side could not be compared."""

    base_label: str
    head_label: str
    failures: tuple[SideFailure, ...] = ()
    changes: tuple[ObjectChange, ...] = ()
    revisions: tuple[RevisionChange, ...] = ()
    impacts: tuple[ClusterImpact, ...] = ()
    policy: tuple[Diagnostic, ...] = ()
    wave_order: tuple[str, ...] = ()
    rollout: RolloutPlan | None = None
    lifecycle: LifecycleReport | None = None
    """``plan`` only: version expiry against the rollout's duration, machine rotation dates."""
    head_contents: SideContents | None = None
    """What the head holds when only the base failed (a PR that fixes a broken base still gets an answer)."""

    @property
    def failed(self) -> bool:
        """True when a side could not be loaded, validated or compiled."""
        return bool(self.failures)

    @property
    def base_broken(self) -> bool:
        """True when the base's fleet does not validate or compile while the head is valid.

        The pull request that fixes a broken base is not blocked by it. A base that cannot be *read* (an unknown
        revision, a too shallow clone, no fleet there) is a CI setup problem instead, and stays a failure.
        """
        return self.head_contents is not None and all(
            f.side == "base" and f.stage in ("validate", "compile") for f in self.failures
        )

    @property
    def changed(self) -> bool:
        """True when any object differs."""
        return bool(self.changes)

    @property
    def policy_errors(self) -> bool:
        """True when a cross-revision rule is broken."""
        return has_errors(self.policy)

    @property
    def changed_clusters(self) -> tuple[ClusterImpact, ...]:
        """Clusters something happens to, by name."""
        return tuple(i for i in self.impacts if i.changed)

    def effect_counts(self) -> dict[Effect, int]:
        """Changed clusters by most severe effect, most severe first."""
        counts = Counter(i.effect for i in self.impacts if i.changed)
        return {effect: counts[effect] for effect in Effect if counts[effect]}

    @property
    def destroyed(self) -> tuple[ClusterImpact, ...]:
        """Clusters decommissioned, or losing a worker pool (destructive changes)."""
        return tuple(i for i in self.impacts if i.destructive)

    @property
    def orphaned(self) -> tuple[ClusterImpact, ...]:
        """Clusters that left the spec unmarked: left running, no longer managed."""
        return tuple(i for i in self.impacts if i.effect is Effect.ORPHANED)

    @property
    def touched_waves(self) -> tuple[str, ...]:
        """Waves with a changed cluster, in rollout order (then any others, by name)."""
        touched = {i.wave or "" for i in self.impacts if i.changed}
        ordered = [w for w in self.wave_order if w in touched]
        return tuple(ordered + sorted(touched - set(ordered) - {""}))

    @property
    def total_clusters(self) -> int:
        """Clusters of either side (the head's, and the removed ones)."""
        return len(self.impacts)

    @property
    def head_clusters(self) -> int:
        """Clusters of the head side."""
        return sum(1 for i in self.impacts if not i.removed)


def _failure_report(base: Side, head: Side) -> DiffReport:
    failures = tuple(side for side in (base, head) if isinstance(side, SideFailure))
    contents = contents_of(head) if isinstance(head, Snapshot) else None
    return DiffReport(base.label, head.label, failures, head_contents=contents)


def compare(
    base: Side, head: Side, *, rollout: bool = False, now: datetime | None = None, start: float | None = None
) -> DiffReport:
    """The diff from ``base`` to ``head``; with ``rollout``, the rollout order of the head side too, with its
    schedule from ``start`` (or from ``now`` when waves wait for approval or windows: :mod:`fleetc.plan.schedule`),
    and its lifecycle section as on ``now`` (default today, UTC)."""
    if not isinstance(base, Snapshot) or not isinstance(head, Snapshot):
        return _failure_report(base, head)
    differ = FieldDiffer()
    changes = diff_sets(base.objects, head.objects, differ)
    revisions = pair_revisions(base, head, differ)
    by_key = {c.key: c for c in changes}
    impacts = causes.attribute(cluster_impacts(base, head, by_key, revision_index(revisions)), base, head)
    moment = now or today()
    order = rollout_order(head, impacts, start=start, now=moment.timestamp()) if rollout else None
    return DiffReport(
        base.label,
        head.label,
        changes=changes,
        revisions=revisions,
        impacts=impacts,
        policy=policy.check(base, head, impacts, revisions),
        wave_order=tuple(dict.fromkeys([*head.wave_order, *base.wave_order])),
        rollout=order,
        lifecycle=lifecycle_report(head, impacts, order, moment) if order is not None else None,
    )
