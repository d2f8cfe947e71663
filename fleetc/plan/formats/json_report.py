"""The JSON format of a diff or plan: a stable, versioned document for other tools (schema below, ``version: 3``).

Stability: fields are only ever added within a version; a removal or a change of meaning bumps ``version``.
Version 2 split the effect ``deleted`` into ``decommissioned`` (the CAPI Cluster is deleted) and ``orphaned``
(left running, no longer managed), added the effect ``decommission-mark``, ``clusters[].removal`` and
``waves[].orphaned``. Version 3: diagnostics (``policy[]``, ``failures[].diagnostics[]``) take the one shape
``fleetc validate`` writes too (:mod:`fleetc.core.diagnostic_json`); ``clusters[].causes`` (the spec file and
line of each change), ``clusters[].machines.workersDeleted`` (workers of removed pools), and ``headContents``
(what a valid head holds when only the base failed); a refused upgrade counts no machine replaced.
Its JSON Schema is :data:`fleetc.plan.formats.json_schema.JSON_SCHEMA` (closed objects, so an unannounced field
fails the tests); docs/ci.md describes each field. Changed clusters only are listed; ``summary.clusters`` counts all.

Caller: ``fleetc diff --format json`` and ``fleetc plan --format json``.
"""

from __future__ import annotations

import json
from typing import Any

from fleetc.contract.timestamps import timestamp
from fleetc.contract.topology import MachineRange
from fleetc.core.diagnostic_json import diagnostic_json
from fleetc.plan.diff import FieldChange, ObjectChange, Op
from fleetc.plan.formats.common import removal_line
from fleetc.plan.formats.json_schema import JSON_VERSION
from fleetc.plan.impact import ClusterImpact
from fleetc.plan.lifecycle import LifecycleReport
from fleetc.plan.report import DiffReport
from fleetc.plan.revisions import RevisionChange, TemplateChange
from fleetc.plan.rollout_order import RolloutPlan, WaveStep
from fleetc.plan.schedule import WaveTimes
from fleetc.plan.snapshot import SideContents, SideFailure


def _range(machines: MachineRange) -> dict[str, int]:
    return {"min": machines.low, "max": machines.high}


def _field(change: FieldChange) -> dict[str, Any]:
    return {"path": change.path, "op": change.op.value, "before": change.before, "after": change.after}


def _failure(failure: SideFailure) -> dict[str, Any]:
    return {
        "side": failure.side,
        "label": failure.label,
        "stage": failure.stage,
        "message": failure.message,
        "diagnostics": [diagnostic_json(d) for d in failure.diagnostics],
    }


def _cluster(impact: ClusterImpact) -> dict[str, Any]:
    upgrade = impact.upgrade
    revision = impact.revision
    return {
        "name": impact.name,
        "namespace": impact.key.namespace,
        "wave": impact.wave,
        "effects": [e.value for e in impact.effects],
        "destructive": impact.destructive,
        "version": impact.version,
        "class": impact.cluster_class,
        "upgrade": None
        if upgrade is None
        else {
            "from": upgrade.before,
            "to": upgrade.after,
            "controlPlaneSteps": list(upgrade.control_plane_steps),
            "workerSteps": list(upgrade.worker_steps),
            "refused": upgrade.problem,
        },
        "classRevision": None
        if revision is None
        else {
            "from": revision.old.key.name if revision.old else None,
            "to": revision.new.key.name if revision.new else None,
        },
        "machines": {
            "controlPlane": impact.control_plane,
            "workers": _range(impact.workers),
            "controlPlaneReplaced": impact.control_plane_replaced,
            "workersReplaced": _range(impact.workers_replaced),
            "workersDeleted": _range(impact.workers_deleted),
        },
        "rollingPools": list(impact.rolling_pools),
        "poolsRemoved": list(impact.pools_removed),
        "poolsAdded": list(impact.pools_added),
        "scaling": list(impact.scaling),
        "notes": list(impact.notes),
        "renamed": impact.renamed,
        "source": impact.source,
        "removal": removal_line(impact) if impact.removed else None,
        "causes": [
            {"what": c.what, "file": c.location.path, "line": c.location.line, "field": c.field} for c in impact.causes
        ],
    }


def _template(template: TemplateChange) -> dict[str, Any]:
    return {
        "role": str(template.role),
        "kind": template.kind,
        "op": template.op.value,
        "fields": [_field(f) for f in template.fields],
    }


def _revision(revision: RevisionChange) -> dict[str, Any]:
    return {
        "class": revision.base,
        "from": revision.old.key.name if revision.old else None,
        "to": revision.new.key.name if revision.new else None,
        "clusters": list(revision.clusters),
        "rollsControlPlane": revision.rolls_control_plane,
        "rollingPools": list(revision.rolling_pools),
        "poolsAdded": list(revision.pools_added),
        "poolsRemoved": list(revision.pools_removed),
        "inPlace": list(revision.in_place),
        "templates": [_template(t) for t in revision.templates],
        "classFields": [_field(f) for f in revision.class_fields],
    }


def _object(change: ObjectChange) -> dict[str, Any]:
    key = change.key
    return {
        "group": key.group,
        "kind": key.kind,
        "namespace": key.namespace,
        "name": key.name,
        "op": change.op.value,
        "fields": [_field(f) for f in change.fields],
    }


def _wave(step: WaveStep) -> dict[str, Any]:
    return {
        "index": step.index,
        "name": step.name,
        "clusters": list(step.clusters),
        "changing": list(step.touched),
        "deleted": list(step.deleted),
        "orphaned": list(step.orphaned),
        "maxConcurrent": step.max_concurrent,
        "soakSeconds": step.soak_seconds,
        "controlPlaneDeadlineSeconds": step.control_plane_deadline_seconds,
        "failureBudget": step.failure_budget,
        "batches": step.batches,
        **({"schedule": _times(step.times)} if step.times else {}),
    }


def _times(times: WaveTimes) -> dict[str, Any]:
    return {
        "starts": timestamp(times.starts),
        "ends": timestamp(times.ends),
        "waitsForApproval": times.waits_for_approval,
        "windowed": times.windowed,
    }


def _rollout(plan: RolloutPlan | None) -> dict[str, Any] | None:
    if plan is None:
        return None
    return {"waves": [_wave(w) for w in plan.waves], "unassigned": list(plan.unassigned)}


def _contents(contents: SideContents | None) -> dict[str, Any] | None:
    if contents is None:
        return None
    return {
        "label": contents.label,
        "clusters": contents.clusters,
        "waves": dict(contents.waves),
        "versions": dict(contents.versions),
        "classes": dict(contents.classes),
    }


def _summary(report: DiffReport) -> dict[str, Any]:
    ops = [c.op for c in report.changes]
    return {
        "clusters": report.head_clusters,
        "changedClusters": len(report.changed_clusters),
        "byEffect": {e.value: n for e, n in report.effect_counts().items()},
        "wavesTouched": list(report.touched_waves),
        "objects": {op.value: ops.count(op) for op in (Op.ADDED, Op.REMOVED, Op.CHANGED)},
    }


def to_data(report: DiffReport, *, kind: str = "diff") -> dict[str, Any]:
    """The report as plain JSON data (valid against
    :data:`~fleetc.plan.formats.json_schema.JSON_SCHEMA`); ``kind`` is ``diff`` or ``plan``."""
    failed = {f.side for f in report.failures}
    data = {
        "version": JSON_VERSION,
        "kind": kind,
        "base": {"label": report.base_label, "ok": "base" not in failed},
        "head": {"label": report.head_label, "ok": "head" not in failed},
        "ok": not report.failed and not report.policy_errors,
        "changed": report.changed,
        "failures": [_failure(f) for f in report.failures],
        "policy": [diagnostic_json(d) for d in report.policy],
        "summary": _summary(report),
        "clusters": [_cluster(i) for i in report.changed_clusters],
        "revisions": [_revision(r) for r in report.revisions],
        "objects": [_object(c) for c in report.changes],
        "headContents": _contents(report.head_contents),
        "rollout": _rollout(report.rollout),
    }
    if report.rollout is not None:
        data["lifecycle"] = _lifecycle(report.lifecycle)
    return data


def _lifecycle(life: LifecycleReport | None) -> dict[str, Any] | None:
    if life is None:
        return None
    rotations = [
        {
            "rotateAfter": g.rotate_after,
            "nextDue": g.next_due,
            "maxMachineAgeDays": g.max_machine_age_days,
            "certificatesExpiryDays": g.certificates_expiry_days,
            "clusters": list(g.clusters),
        }
        for g in life.rotations
    ]
    return {"now": life.now, "warnings": [diagnostic_json(d) for d in life.warnings], "rotations": rotations}


def render(report: DiffReport, *, kind: str = "diff") -> str:
    """The report as an indented JSON document."""
    return json.dumps(to_data(report, kind=kind), indent=2, ensure_ascii=False, default=str) + "\n"
