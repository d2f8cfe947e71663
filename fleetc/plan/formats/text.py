"""The text format of a diff or plan: for a terminal (coloured on a TTY) or a CI log.

Returns lines with a style name (``red``, ``yellow``, ``green``, ``bold``, ``dim`` or ``""``); the CLI prints them
with rich, which drops the styles when stdout is not a terminal. Order: failures, deletions, policy errors, the
summary, then clusters by kind of change, class revisions, object changes and (for ``plan``) the rollout order.
Long cluster lists are folded (``… and N more``) and wrap at :data:`WIDTH` columns; ``--format json`` lists
everything.

Caller: ``fleetc diff`` and ``fleetc plan`` (``--format text``).
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from dataclasses import dataclass

from fleetc.plan.formats import common
from fleetc.plan.grouping import ImpactGroup, group_impacts, group_objects, group_revisions, revision_objects
from fleetc.plan.impact import Effect
from fleetc.plan.lifecycle import LifecycleReport
from fleetc.plan.report import DiffReport
from fleetc.plan.rollout_order import RolloutPlan

NAMES_SHOWN = 12
WIDTH = 120
"""Long name lists wrap at this many columns (the lines that carry no list are left as they are)."""
FIELDS_SHOWN = 12
_STYLE = {
    Effect.DECOMMISSIONED: "red",
    Effect.ORPHANED: "yellow",
    Effect.POOL_REMOVED: "red",
    Effect.MARKED: "yellow",
    Effect.CREATED: "green",
    Effect.UPGRADE: "yellow",
}


@dataclass(frozen=True)
class Line:
    """One output line and how to colour it."""

    text: str
    style: str = ""


def _wrapped(prefix: str, text: str, style: str = "") -> Iterator[Line]:
    """``prefix + text`` wrapped at :data:`WIDTH` columns, continuation lines indented under the text."""
    lines = textwrap.wrap(
        text,
        WIDTH,
        initial_indent=prefix,
        subsequent_indent=" " * (len(prefix) - len(prefix.lstrip()) + 2),
        break_on_hyphens=False,
        break_long_words=False,
    )
    for line in lines or [prefix.rstrip()]:
        yield Line(line, style)


def _failures(report: DiffReport) -> Iterator[Line]:
    for failure in report.failures:
        yield Line(f"{failure.side} ({failure.label}) failed to {failure.stage}: {failure.message}", "red bold")
        for diagnostic in failure.diagnostics:
            yield Line(f"  {diagnostic}", "red")
    if report.head_contents is not None:
        verdict, *rows = common.head_valid_lines(report.head_contents)
        yield Line(verdict, "green bold")
        for row in rows:
            yield from _wrapped("  ", row)
        yield Line(f"No diff: {common.BASE_FAILED}", "bold")
    else:
        yield Line(common.NO_DIFF, "bold")


def _alerts(report: DiffReport) -> Iterator[Line]:
    destroyed = report.destroyed
    if destroyed:
        yield Line(f"DESTRUCTIVE: machines deleted for good on {common.plural(len(destroyed), 'cluster')}:", "red bold")
        yield from _wrapped("  ", common.fold([common.deleted_line(i) for i in destroyed], NAMES_SHOWN), "red")
        if any(i.effect is Effect.DECOMMISSIONED for i in destroyed):
            yield Line("  decommissioned clusters are deleted by fleetc apply only with --allow-delete", "red")
    orphaned = report.orphaned
    if orphaned:
        yield Line(
            f"ORPHANED: {common.plural(len(orphaned), 'cluster')} left running, no longer managed by fleetc:", "yellow"
        )
        yield from _wrapped("  ", common.fold([common.deleted_line(i) for i in orphaned], NAMES_SHOWN), "yellow")
        yield Line(f"  {common.ORPHAN_HINT}", "dim")
    errors = report.policy
    if errors:
        yield Line(f"POLICY: {common.plural(len(errors), 'error')} (CAPI would refuse this change):", "red bold")
        for diagnostic in errors:
            yield Line(f"  {diagnostic}", "red")


def _group(group: ImpactGroup) -> Iterator[Line]:
    cp, workers = common.machine_cells(group)
    machines = f" · control-plane machines {cp}, worker machines {workers}" if (cp, workers) != ("—", "—") else ""
    yield Line(
        f"  {group.headline} — {common.plural(len(group.clusters), 'cluster')}{machines}", _STYLE.get(group.effect, "")
    )
    for wave, members in group.by_wave():
        yield from _wrapped(f"    {wave}: ", common.fold([m.name for m in members], NAMES_SHOWN))
    specific = common.details_lines(group)
    for names, text in specific[:NAMES_SHOWN]:
        yield from _wrapped(f"    {common.fold(names, 3)}: ", text, "dim")
    if len(specific) > NAMES_SHOWN:
        yield Line(f"    … and {len(specific) - NAMES_SHOWN:,} more clusters with details", "dim")
    causes = common.group_causes(group)
    if causes:
        yield from _wrapped("    spec: ", common.fold([str(c) for c in causes], NAMES_SHOWN), "dim")


def _revisions(report: DiffReport) -> Iterator[Line]:
    """Each revision with its own change; revisions that changed the same way share one listing of it."""
    if not report.revisions:
        return
    yield Line("")
    yield Line("Class revisions", "bold")
    for group in group_revisions(report.revisions):
        changed = bool(group.first.templates or group.first.class_fields)
        shared = len(group.revisions) > 1 and changed
        if shared:
            yield Line(f"  the same change in {len(group.revisions):,} revisions:")
        indent = "    " if shared else "  "
        for revision in group.revisions:
            yield Line(f"{indent}{common.revision_line(revision)}")
        for template in group.first.templates:
            yield Line(f"{indent}  {template.role} ({template.kind}): {template.op.value}", "dim")
            for change in template.fields[:FIELDS_SHOWN]:
                yield Line(f"{indent}    {common.field_line(change)}", "dim")
        for change in group.first.class_fields[:FIELDS_SHOWN]:
            yield Line(f"{indent}  ClusterClass {common.field_line(change)}", "dim")


def _objects(report: DiffReport) -> Iterator[Line]:
    if not report.changes:
        return
    folded = revision_objects(report.revisions)
    others = [c for c in report.changes if c.key not in folded]
    yield Line("")
    yield Line(f"Objects ({common.plural(len(report.changes), 'object')})", "bold")
    if len(others) < len(report.changes):
        yield Line(f"  {common.revision_objects_line(report, folded)}", "dim")
    marks = {"added": "+", "removed": "-", "changed": "~"}
    for group in group_objects(others):
        names = common.fold([k.name for k in group.keys], NAMES_SHOWN)
        count = f" ×{len(group.keys):,}" if len(group.keys) > 1 else ""
        yield from _wrapped(f"  {marks[group.op.value]} {group.kind}{count} {group.op.value}: ", names)
        for change in group.fields[:FIELDS_SHOWN]:
            yield Line(f"      {common.field_line(change)}", "dim")
        if len(group.fields) > FIELDS_SHOWN:
            yield Line(f"      … and {len(group.fields) - FIELDS_SHOWN:,} more fields", "dim")


def _rollout(plan: RolloutPlan) -> Iterator[Line]:
    yield Line("")
    yield Line("Rollout order (class revisions first, then wave by wave)", "bold")
    for step in plan.waves:
        mark = "touched" if step.is_touched else "untouched"
        style = "bold" if step.is_touched else "dim"
        yield Line(
            f"  {step.index}. {step.name}: {common.plural(len(step.clusters), 'cluster')}, {len(step.touched):,} "
            f"changing{f', {len(step.deleted):,} deleted' if step.deleted else ''}"
            f"{f', {len(step.orphaned):,} orphaned' if step.orphaned else ''} ({mark}) — {common.gates(step)}",
            style,
        )
        if step.touched:
            yield from _wrapped("     in order: ", common.fold(list(step.touched), NAMES_SHOWN))
        if step.times is not None:
            yield Line(f"     schedule: {common.schedule(step.times)}")
        if step.deleted:
            yield Line(f"     deleted (needs --allow-delete): {common.fold(list(step.deleted), NAMES_SHOWN)}", "red")
        if step.orphaned:
            yield Line(f"     orphaned (left running): {common.fold(list(step.orphaned), NAMES_SHOWN)}", "yellow")
    if plan.unassigned:
        yield Line(f"  not in any wave: {common.fold(list(plan.unassigned), NAMES_SHOWN)}", "yellow")


def _lifecycle(life: LifecycleReport | None) -> Iterator[Line]:
    if life is None or not (life.warnings or life.rotations):
        return
    yield Line("")
    yield Line(f"Lifecycle (as on {life.now})", "bold")
    for diagnostic in life.warnings:
        yield Line(f"  warning: {diagnostic}", "yellow")
    for group in life.rotations:
        yield Line(f"  {group.line}: {common.fold(list(group.clusters), NAMES_SHOWN)}")


def render(report: DiffReport) -> list[Line]:
    """The whole report as lines."""
    lines = [
        Line(f"fleetc diff: {common.short_label(report.base_label)} → {common.short_label(report.head_label)}", "bold")
    ]
    if report.failed:
        return [*lines, *_failures(report)]
    lines += _alerts(report)
    lines.append(Line(common.summary_line(report), "bold"))
    groups = group_impacts(report.impacts, report.wave_order)
    if groups:
        lines += [Line(""), Line("Clusters", "bold")]
        for group in groups:
            lines += _group(group)
    lines += _revisions(report)
    lines += _objects(report)
    if report.rollout is not None:
        lines += _rollout(report.rollout)
    lines += _lifecycle(report.lifecycle)
    return lines


def plain(report: DiffReport) -> str:
    """The text format without styles (tests, files)."""
    return "\n".join(line.text for line in render(report)) + "\n"
