"""Wording shared by the text and markdown formats: counts, folded name lists, values, machine counts.

Pure functions from report values to strings. Caller: :mod:`fleetc.plan.formats.text` and
:mod:`fleetc.plan.formats.markdown`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from fleetc.contract.topology import NO_MACHINES, MachineRange
from fleetc.core.keys import ObjectKey
from fleetc.plan.diff import FieldChange, Op
from fleetc.plan.grouping import ImpactGroup
from fleetc.plan.impact import Cause, ClusterImpact, Effect
from fleetc.plan.report import DiffReport
from fleetc.plan.revisions import RevisionChange
from fleetc.plan.rollout_order import WaveStep
from fleetc.plan.schedule import WaveTimes
from fleetc.plan.snapshot import SideContents
from fleetc.schema.types import format_duration

VALUE_WIDTH = 80
EFFECT_WORDS = {
    Effect.DECOMMISSIONED: "decommissioned",
    Effect.ORPHANED: "orphaned",
    Effect.CREATED: "created",
    Effect.POOL_REMOVED: "lose a worker pool",
    Effect.MARKED: "decommission mark",
    Effect.UPGRADE: "upgrade",
    Effect.REPLACE: "roll machines",
    Effect.SCALE: "scale",
    Effect.RECONFIGURE: "reconfigure",
    Effect.METADATA: "metadata only",
}


_FULL_SHA = re.compile(r"\b([0-9a-f]{12})[0-9a-f]{28}\b")


def short_label(label: str) -> str:
    """A side's label with full commit ids shortened to 12 hex digits (titles; the footnote keeps them whole)."""
    return _FULL_SHA.sub(r"\1", label)


def plural(count: int, word: str, many: str | None = None) -> str:
    """``1 cluster``, ``2 clusters`` (thousands separated)."""
    return f"{count:,} {word if count == 1 else (many or word + 's')}"


def value(data: Any) -> str:
    """A field value on one line, shortened past :data:`VALUE_WIDTH` characters."""
    text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False, sort_keys=True, default=str)
    return text if len(text) <= VALUE_WIDTH else text[: VALUE_WIDTH - 1] + "…"


def field_line(change: FieldChange, quote: str = "") -> str:
    """``path: before → after`` (``+ value`` when added, ``- value`` when removed)."""
    q = quote
    if change.op is Op.ADDED:
        return f"{q}{change.path}{q}: added {q}{value(change.after)}{q}"
    if change.op is Op.REMOVED:
        return f"{q}{change.path}{q}: removed (was {q}{value(change.before)}{q})"
    return f"{q}{change.path}{q}: {q}{value(change.before)}{q} → {q}{value(change.after)}{q}"


def head_valid_lines(contents: SideContents) -> list[str]:
    """What a valid head holds when the base failed: the verdict, then clusters per wave, version and class."""

    def counted(rows: Sequence[tuple[str, int]]) -> str:
        return ", ".join(f"{name} {count:,}" for name, count in rows) or "none"

    return [
        f"The head ({contents.label}) is valid: it loads, validates and compiles, with "
        f"{plural(contents.clusters, 'cluster')}.",
        f"waves: {counted(contents.waves)}",
        f"Kubernetes versions: {counted(contents.versions)}",
        f"classes (on provider): {counted(contents.classes)}",
    ]


BASE_FAILED = (
    "what changes cannot be told (the base does not compile, so nothing is compared); once this merges, the next "
    "pull request gets a full diff again."
)
NO_DIFF = "No diff: a side that does not load, validate and compile cannot be compared."


def summary_line(report: DiffReport) -> str:
    """``12 of 40 clusters change: 1 deleted, 10 upgrade, 1 created; waves touched: canary → broad``."""
    changed = report.changed_clusters
    if not changed:
        objects = f" ({plural(len(report.changes), 'object')} differ)" if report.changes else ""
        return f"No cluster changes{objects}."
    counts = ", ".join(f"{n:,} {EFFECT_WORDS[e]}" for e, n in report.effect_counts().items())
    waves = " → ".join(report.touched_waves) or "none"
    return f"{len(changed):,} of {plural(report.total_clusters, 'cluster')} change: {counts}; waves touched: {waves}"


def wave_counts(group: ImpactGroup) -> str:
    """``canary 1 · early 4 · broad 5``."""
    return " · ".join(f"{wave} {count:,}" for wave, count in group.waves())


def _sum(values: Sequence[MachineRange]) -> MachineRange:
    return sum(values, NO_MACHINES)


def machine_cells(group: ImpactGroup) -> tuple[str, str]:
    """(control-plane, worker) machines a group's change creates, deletes or replaces: the decision, in two cells.

    A decommissioned cluster's machines are ``deleted``, a created cluster's ``created``, an orphaned cluster's
    ``keep running``; otherwise the machines ``replaced`` (a refused update replaces none), plus the workers of
    removed pools ``deleted``. ``—`` for none.
    """
    members = group.clusters
    cp_total = sum(c.control_plane for c in members)
    workers_total = _sum([c.workers for c in members])
    verb = {Effect.DECOMMISSIONED: "deleted", Effect.CREATED: "created", Effect.ORPHANED: "keep running"}
    if group.effect in verb:
        word = verb[group.effect]
        return (f"{cp_total:,} {word}" if cp_total else "—"), (f"{workers_total} {word}" if workers_total.high else "—")
    cp_replaced = sum(c.control_plane_replaced for c in members)
    replaced = _sum([c.workers_replaced for c in members])
    deleted = _sum([c.workers_deleted for c in members])
    workers = [f"{replaced} replaced"] if replaced.high else []
    workers += [f"{deleted} deleted"] if deleted.high else []
    return (f"{cp_replaced:,} replaced" if cp_replaced else "—"), (", ".join(workers) or "—")


def cluster_details(impact: ClusterImpact, headline: str = "") -> str:
    """What is specific to one cluster of a group (notes the headline does not already say), empty when nothing is."""
    parts = [note for note in impact.notes if note not in headline]
    if impact.effect is Effect.DECOMMISSIONED:
        parts.insert(0, f"CAPI Cluster deleted with {machines(impact)} machines")
    elif impact.effect is Effect.ORPHANED:
        parts.insert(0, f"{machines(impact)} machines keep running")
    return "; ".join(parts)


def machines(impact: ClusterImpact) -> str:
    """``3 control-plane and 5 worker``: the machines of a whole cluster."""
    return f"{impact.control_plane:,} control-plane and {impact.workers} worker"


def removal_line(impact: ClusterImpact) -> str:
    """What happens to a cluster that left the spec, said exactly (the alert and the cluster details)."""
    if impact.effect is Effect.DECOMMISSIONED:
        return (
            f"decommissioned: CAPI Cluster deleted with {machines(impact)} machines (needs fleetc apply --allow-delete)"
        )
    return "orphaned: left running, no longer managed by fleetc"


def details_lines(group: ImpactGroup) -> list[tuple[list[str], str]]:
    """Per-cluster details of a group, clusters with the same details together: ([names], text)."""
    by_text: dict[str, list[str]] = {}
    for member in group.clusters:
        text = cluster_details(member, group.headline)
        if text:
            by_text.setdefault(text, []).append(member.name)
    if len(by_text) == 1 and len(next(iter(by_text.values()))) == len(group.clusters) > 1:
        return [(["all"], next(iter(by_text)))]
    return [(names, text) for text, names in by_text.items()]


def group_causes(group: ImpactGroup) -> list[Cause]:
    """The spec locations that caused a group's change, each once, in the order of the group's clusters."""
    return list(dict.fromkeys(cause for member in group.clusters for cause in member.causes))


def deleted_line(impact: ClusterImpact) -> str:
    """A decommissioned cluster (with its machines) or a removed pool, with its wave."""
    wave = f"wave {impact.wave}" if impact.wave else "no wave"
    if impact.effect is Effect.DECOMMISSIONED:
        return f"{impact.name} ({wave}; {machines(impact)} machines)"
    if impact.effect is Effect.ORPHANED:
        return f"{impact.name} ({wave})"
    return f"{impact.name}: pool {', '.join(impact.pools_removed)} ({wave})"


def revision_line(revision: RevisionChange) -> str:
    """``standard-aws-eu-west-1: revision cee006 → 21be04 — 5 clusters; rolls control plane, pool general``."""
    text = f"{revision.label} — {plural(len(revision.clusters), 'cluster')}"
    rolled = (["control plane"] if revision.rolls_control_plane else []) + [f"pool {p}" for p in revision.rolling_pools]
    effects = []
    if rolled:
        effects.append(f"rolls {', '.join(rolled)}")
    if revision.pools_added:
        effects.append(f"adds pool {', '.join(revision.pools_added)}")
    if revision.pools_removed:
        effects.append(f"removes pool {', '.join(revision.pools_removed)}")
    if revision.in_place:
        effects.append(f"in place: {', '.join(revision.in_place)}")
    return f"{text}; {'; '.join(effects)}" if effects else text


def gates(step: WaveStep) -> str:
    """``max 2 at a time · soak 1h · control-plane deadline 30m · failure budget 0``."""
    if step.max_concurrent is None:
        return "gates unknown (no fleet model)"
    return (
        f"max {step.max_concurrent:,} at a time · soak {format_duration(step.soak_seconds or 0)} · control-plane "
        f"deadline {format_duration(step.control_plane_deadline_seconds or 0)} · failure budget {step.failure_budget}"
    )


def revision_objects_line(report: DiffReport, folded: set[ObjectKey]) -> str:
    """How many objects belong to the class revisions listed above (not repeated one by one)."""
    ops = [c.op for c in report.changes if c.key in folded]
    counts = ", ".join(f"{ops.count(op):,} {op.value}" for op in (Op.REMOVED, Op.CHANGED, Op.ADDED) if ops.count(op))
    return f"{plural(len(ops), 'object')} of the class revisions above ({counts}): see Class revisions"


LEGEND = (
    "An upgrade replaces control-plane machines one at a time (KubeadmControlPlane), then the workers' pool by "
    "pool; a template change replaces the machines it concerns; an autoscaled pool counts as min–max."
)
ORPHAN_HINT = (
    "to delete one instead, put its entry back with decommission: true, apply that, then remove it "
    "(docs/spec.md, Removing a cluster)"
)
"""How to turn an orphaning into a decommissioning, said wherever orphans are listed."""


def gate_values(step: WaveStep) -> list[str]:
    """maxConcurrent, soak, control-plane deadline and failure budget of a wave, ``?`` when unknown."""
    if step.max_concurrent is None:
        return ["?"] * 4
    return [
        f"{step.max_concurrent:,}",
        format_duration(step.soak_seconds or 0),
        format_duration(step.control_plane_deadline_seconds or 0),
        f"{step.failure_budget:,}",
    ]


def fold(names: Sequence[str], limit: int) -> str:
    """``a, b, c … and 12 more``."""
    shown = ", ".join(names[:limit])
    return f"{shown} … and {len(names) - limit:,} more" if len(names) > limit else shown


def schedule(times: WaveTimes) -> str:
    """``Mon 2026-03-02 22:00 UTC → Tue 2026-03-03 04:30 UTC (waits for approval)``: a wave's estimated times."""
    flags = (("waits for approval", times.waits_for_approval), ("maintenance windows", times.windowed))
    notes = [note for note, on in flags if on]
    text = f"{_moment(times.starts)} → {_moment(times.ends)}"
    return f"{text} ({', '.join(notes)})" if notes else text


def _moment(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%a %Y-%m-%d %H:%M UTC")
