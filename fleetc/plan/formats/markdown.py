"""The markdown format of a diff or plan: a pull-request comment a reviewer understands in ten seconds.

Layout, most important first:

1. a hidden marker (``<!-- fleetc:diff -->``) so CI can find and update its previous comment;
2. a failed side, if any, and no diff (a side that did not compile is not a diff); when only the base failed,
   whether the head is valid and what it holds;
3. destructive changes (decommissioned clusters, removed pools), orphaned clusters and policy errors, in GitHub
   alert boxes;
4. the summary line and the table that carries the decision: per kind of change, the clusters, their waves and
   what happens to their machines (deleted, created, keep running, replaced); for ``plan``, the waves in order
   with their gates;
5. details in ``<details>``: every cluster per kind of change and wave with the spec lines that caused it, for
   ``plan`` the clusters of each wave in rollout order, then the class revisions (hashes come here, below the
   per-cluster information) with what changed in each, and the object field changes;
6. one footnote: the machine-count legend and the full revisions compared (the title shortens commit ids).

The whole text stays under GitHub's 65,536-character comment limit (counted in UTF-8 bytes, which is stricter):
parts 1–4 are bounded by construction; details are added until the budget runs out, then a
``Truncated, N more not shown`` line says what is missing and where the complete list is (``--format json``).

Caller: ``fleetc diff --format markdown`` and ``fleetc plan --format markdown``.
"""

from __future__ import annotations

from collections.abc import Sequence

from fleetc.core.diagnostics import Diagnostic
from fleetc.plan.formats import common
from fleetc.plan.formats.budget import Budget, code
from fleetc.plan.grouping import (
    ImpactGroup,
    ObjectGroup,
    group_impacts,
    group_objects,
    group_revisions,
    revision_objects,
)
from fleetc.plan.impact import ClusterImpact, Effect
from fleetc.plan.lifecycle import LifecycleReport
from fleetc.plan.report import DiffReport
from fleetc.plan.revisions import RevisionChange
from fleetc.plan.rollout_order import RolloutPlan

COMMENT_LIMIT = 65_536
"""GitHub's limit on a comment body, in characters."""
DEFAULT_BUDGET = 65_000
MARKER = "<!-- fleetc:diff -->"
ALERT_NAMES = 50
POLICY_SHOWN = 20
TABLE_ROWS = 30
NAMED_IN_TABLE = 8
DIAGNOSTICS_SHOWN = 30
FIELDS_SHOWN = 20
MESSAGE_WIDTH = 300
_END_RESERVE = 900


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _short(text: str) -> str:
    return text if len(text) <= MESSAGE_WIDTH else text[: MESSAGE_WIDTH - 1] + "…"


def _failures(report: DiffReport) -> list[str]:
    out = []
    for failure in report.failures:
        out.append(
            f"> [!CAUTION]\n> **The {failure.side} side ({code(failure.label)}) failed to {failure.stage}**: "
            f"{_short(failure.message)}\n"
        )
        if failure.diagnostics:
            shown = failure.diagnostics[:DIAGNOSTICS_SHOWN]
            lines = "\n".join(_short(str(d)) for d in shown)
            more = len(failure.diagnostics) - len(shown)
            out.append(f"\n```text\n{lines}\n```\n" + (f"\n… and {more:,} more\n" if more > 0 else ""))
        out.append("\n")
    if report.head_contents is not None:
        verdict, *rows = common.head_valid_lines(report.head_contents)
        out.append(f"> [!NOTE]\n> **{verdict}**\n>\n" + "\n".join(f"> - {row}" for row in rows) + "\n\n")
        out.append(f"**No diff is shown**: {common.BASE_FAILED}\n")
        return out
    out.append(
        "**No diff is shown**: a side that does not load, validate and compile cannot be compared "
        "(showing it as everything added or deleted would be wrong).\n"
    )
    return out


def _alerts(report: DiffReport) -> list[str]:
    out = []
    deleted = [i for i in report.destroyed if i.effect is Effect.DECOMMISSIONED]
    pools = [i for i in report.destroyed if i.effect is not Effect.DECOMMISSIONED]
    lines = []
    if deleted:
        names = common.fold([_destroyed(i) for i in deleted], ALERT_NAMES)
        lines.append(
            f"> **{common.plural(len(deleted), 'cluster')} will be DELETED** (decommissioned: the CAPI Cluster is "
            f"deleted with every machine; `fleetc apply` needs `--allow-delete`): {names}"
        )
        lines += _twins(deleted, "a deletion")
    if pools:
        names = common.fold([_destroyed(i) for i in pools], ALERT_NAMES)
        lines.append(
            f"> **Worker pools removed** (their machines deleted) on {common.plural(len(pools), 'cluster')}: {names}"
        )
    if lines:
        out.append("> [!CAUTION]\n" + "\n>\n".join(lines) + "\n\n")
    if report.orphaned:
        names = common.fold([_destroyed(i) for i in report.orphaned], ALERT_NAMES)
        warning = [
            f"> **{common.plural(len(report.orphaned), 'cluster')} will be ORPHANED**: left running, no longer "
            f"managed by fleetc (nothing is deleted): {names}",
            *_twins(report.orphaned, "an orphaning"),
            f"> {common.ORPHAN_HINT[0].upper()}{common.ORPHAN_HINT[1:]}.",
        ]
        out.append("> [!WARNING]\n" + "\n>\n".join(warning) + "\n\n")
    if report.policy:
        out.append(_policy(report.policy))
    return out


def _twins(removed: Sequence[ClusterImpact], what: str) -> list[str]:
    twins = [i for i in removed if i.renamed]
    if not twins:
        return []
    shown = common.fold([f"{code(i.name)} → {code(i.renamed or '')}" for i in twins], 5)
    return [
        f"> {common.plural(len(twins), 'of them is', 'of them are')} re-created with the same spec under "
        f"another name or namespace ({shown}): CAPI cannot rename or move a cluster, so this is {what} "
        "and a creation"
    ]


def _destroyed(impact: ClusterImpact) -> str:
    wave = f"wave {impact.wave}" if impact.wave else "no wave"
    if impact.effect is Effect.DECOMMISSIONED:
        return f"{code(impact.name)} ({wave}; {common.machines(impact)} machines)"
    if impact.effect is Effect.ORPHANED:
        return f"{code(impact.name)} ({wave})"
    return f"{code(impact.name)} (pool {', '.join(impact.pools_removed)}, {wave})"


def _policy(diagnostics: Sequence[Diagnostic]) -> str:
    shown = diagnostics[:POLICY_SHOWN]
    lines = [f"> **{common.plural(len(diagnostics), 'policy error')}**: CAPI would refuse this change"]
    for d in shown:
        where = code(str(d.location)) + (f" {code(d.field)}" if d.field else "")
        context = f" *({d.context})*" if d.context else ""
        lines.append(f"> - {where}: {_short(d.message)}{context}")
    if len(diagnostics) > len(shown):
        lines.append(f"> - … and {len(diagnostics) - len(shown):,} more")
    return "> [!CAUTION]\n" + "\n".join(lines) + "\n\n"


def _wave_cell(group: ImpactGroup) -> str:
    """Clusters per wave: named when the group is small (the reader sees who, not just how many)."""
    if len(group.clusters) > NAMED_IN_TABLE:
        return common.wave_counts(group)
    return " · ".join(f"{wave}: {', '.join(code(m.name) for m in members)}" for wave, members in group.by_wave())


def _table(groups: Sequence[ImpactGroup]) -> str:
    rows = [
        "| change | clusters | waves | control-plane machines | worker machines |",
        "|---|--:|---|--:|--:|",
    ]
    for group in groups[:TABLE_ROWS]:
        cp, workers = common.machine_cells(group)
        title = f"**{group.headline}**" if group.destructive else group.headline
        rows.append(f"| {_cell(title)} | {len(group.clusters):,} | {_wave_cell(group)} | {cp} | {workers} |")
    if len(groups) > TABLE_ROWS:
        rest = groups[TABLE_ROWS:]
        count = sum(len(g.clusters) for g in rest)
        rows.append(f"| … {len(rest):,} more kinds of change (below) | {count:,} | | | |")
    return "\n".join(rows) + "\n"


def _rollout_table(plan: RolloutPlan) -> str:
    scheduled = any(step.times is not None for step in plan.waves)
    header = "| # | wave | clusters | changing | max concurrent | soak | control-plane deadline | failure budget |"
    rows = [
        "\n**Rollout order** (class revisions first, then wave by wave; each wave waits for the previous one)\n",
        header + (" estimated schedule |" if scheduled else ""),
        "|--:|---|--:|--:|--:|--:|--:|--:|" + ("---|" if scheduled else ""),
    ]
    for step in plan.waves:
        changing = f"**{len(step.touched):,}**" if step.touched else "0"
        deleted = f" (+{len(step.deleted):,} deleted)" if step.deleted else ""
        deleted += f" (+{len(step.orphaned):,} orphaned)" if step.orphaned else ""
        cells = [
            str(step.index),
            step.name,
            f"{len(step.clusters):,}",
            f"{changing}{deleted}",
            *common.gate_values(step),
        ]
        if scheduled:
            cells.append(common.schedule(step.times) if step.times is not None else "—")
        rows.append("| " + " | ".join(cells) + " |")
    if plan.unassigned:
        rows.append(f"\nNot in any wave: {common.fold([code(n) for n in plan.unassigned], ALERT_NAMES)}")
    return "\n".join(rows) + "\n"


def _lifecycle(life: LifecycleReport | None) -> str:
    if life is None or not (life.warnings or life.rotations):
        return ""
    lines = [f"\n**Lifecycle** (as on {life.now})\n"]
    lines += [f"- :warning: {code(str(d.location))}: {_short(d.message)}" for d in life.warnings]
    lines += [f"- {g.line}: {common.fold([code(n) for n in g.clusters], ALERT_NAMES)}" for g in life.rotations]
    return "\n".join(lines) + "\n"


def _top(report: DiffReport, title: str) -> list[str]:
    base, head = common.short_label(report.base_label), common.short_label(report.head_label)
    parts = [f"{MARKER}\n### {title}: {code(base)} → {code(head)}\n\n"]
    if report.failed:
        return parts + _failures(report)
    parts += _alerts(report)
    parts.append(f"**{common.summary_line(report)}**\n\n")
    groups = group_impacts(report.impacts, report.wave_order)
    if groups:
        parts.append(_table(groups))
    if report.rollout is not None:
        parts.append(_rollout_table(report.rollout))
    if report.lifecycle is not None:
        parts.append(_lifecycle(report.lifecycle))
    return parts


def _group_details(budget: Budget, groups: Sequence[ImpactGroup]) -> None:
    """Every changed cluster per kind of change and wave; each group gets a fair share of the room."""
    for index, group in enumerate(groups):
        share = budget.room() // (len(groups) - index)
        start = budget.size
        summary = f"<b>{group.headline}</b> — {common.plural(len(group.clusters), 'cluster')}"
        if not budget.open(summary):
            budget.omitted += len(group.clusters)
            continue
        waves = group.by_wave()
        for position, (wave, members) in enumerate(waves):
            left = share - (budget.size - start)
            budget.names(
                f"- **{wave}** ({len(members):,}): ", [m.name for m in members], left // (len(waves) - position)
            )
        for names, text in common.details_lines(group):
            if budget.size - start < share:
                budget.add(f"- {', '.join(code(n) for n in names)}: {_short(text)}\n")
            else:
                budget.omitted += 1
        causes = common.group_causes(group)
        if causes:
            budget.names("- spec: ", [str(c) for c in causes], share - (budget.size - start))
        budget.close()


def _revision_details(budget: Budget, revisions: Sequence[RevisionChange]) -> None:
    groups = [g for g in group_revisions(revisions) if g.first.templates or g.first.class_fields]
    if not revisions or not budget.open(f"Class revisions and what changed in them ({len(revisions):,})"):
        budget.omitted += len(groups)
        return
    for group in groups:
        if len(group.revisions) > 1:
            lines = [f"- **The same change in {len(group.revisions):,} revisions**:"]
            lines += [f"  - {_cell(common.revision_line(r))}" for r in group.revisions]
            lines.append("  - the change:")
            indent = "    "
        else:
            lines = [f"- **{_cell(common.revision_line(group.first))}**"]
            indent = "  "
        for template in group.first.templates:
            lines.append(f"{indent}- {template.role} ({code(template.kind)}): {template.op.value}")
            lines += [f"{indent}  - {common.field_line(c, '`')}" for c in template.fields[:FIELDS_SHOWN]]
        fields = group.first.class_fields[:FIELDS_SHOWN]
        lines += [f"{indent}- ClusterClass {common.field_line(c, '`')}" for c in fields]
        budget.add("\n".join(lines) + "\n")
    others = [
        r for g in group_revisions(revisions) if not (g.first.templates or g.first.class_fields) for r in g.revisions
    ]
    if others:
        budget.add("\n".join(f"- {_cell(common.revision_line(r))}" for r in others) + "\n")
    budget.close()


def _object_group(group: ObjectGroup) -> str:
    names = common.fold([code(k.name) for k in group.keys], 10)
    count = f" ×{len(group.keys):,}" if len(group.keys) > 1 else ""
    lines = [f"- {code(group.kind)}{count} **{group.op.value}**: {names}"]
    lines += [f"  - {common.field_line(c, '`')}" for c in group.fields[:FIELDS_SHOWN]]
    if len(group.fields) > FIELDS_SHOWN:
        lines.append(f"  - … and {len(group.fields) - FIELDS_SHOWN:,} more fields")
    return "\n".join(lines) + "\n"


def _object_details(budget: Budget, report: DiffReport) -> None:
    folded = revision_objects(report.revisions)
    groups = group_objects(c for c in report.changes if c.key not in folded)
    if not report.changes or not budget.open(f"Object changes ({common.plural(len(report.changes), 'object')})"):
        budget.omitted += len(groups)
        return
    if folded & {c.key for c in report.changes}:
        budget.add(f"- {common.revision_objects_line(report, folded)}\n")
    for group in groups:
        budget.add(_object_group(group))
    budget.close()


def _rollout_details(budget: Budget, plan: RolloutPlan) -> None:
    touched = [s for s in plan.waves if s.touched]
    if not touched or not budget.open("Clusters of each wave, in rollout order"):
        budget.omitted += sum(len(s.touched) for s in touched)
        return
    for position, step in enumerate(touched):
        budget.names(f"{step.index}. **{step.name}**: ", list(step.touched), budget.room() // (len(touched) - position))
    budget.close()


def render(report: DiffReport, *, title: str = "fleetc diff", limit: int = DEFAULT_BUDGET) -> str:
    """The report as a PR comment of at most ``limit`` UTF-8 bytes.

    Details sections share the room left after the head: class revision changes up to a quarter, clusters per
    change up to two thirds of what remains (half when a rollout order follows), then the rest.
    """
    budget = Budget(limit)
    for part in _top(report, title):
        budget.force(part)
    if not report.failed:
        budget.reserved += _END_RESERVE
        budget.section(0.5 if report.rollout is not None else 2 / 3)
        _group_details(budget, group_impacts(report.impacts, report.wave_order))
        if report.rollout is not None:
            budget.section(0.5)
            _rollout_details(budget, report.rollout)
        budget.section(0.5)
        _revision_details(budget, report.revisions)
        budget.section(1.0)
        _object_details(budget, report)
        budget.reserved -= _END_RESERVE
    if budget.omitted:
        budget.force(
            f"\n**Truncated, {budget.omitted:,} more not shown**: GitHub limits a comment to {COMMENT_LIMIT:,} "
            f"characters. {COMPLETE_LIST}\n"
        )
    budget.force(_footnote(report, title))
    return "".join(budget.parts)


COMPLETE_LIST = (
    "The complete list is the same command's `--format json` output (the CI examples keep it as the job artifact "
    "`fleetc-report.json`); `--format text` folds long lists too."
)


def _footnote(report: DiffReport, title: str) -> str:
    """The one footnote: the machine-count legend (when there is a table) and the full revisions compared."""
    legend = f"{common.LEGEND} " if not report.failed and report.changed_clusters else ""
    return f"\n<sub>{legend}{title}: base {code(report.base_label)}, head {code(report.head_label)}.</sub>\n"
