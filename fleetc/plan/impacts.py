"""Every cluster's impact between two snapshots: the clusters both sides have, renames, and the entry point.

What each effect means is in :mod:`fleetc.plan.impact` (the model). Caller: :func:`fleetc.plan.report.compare`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from fleetc.contract import topology
from fleetc.contract.objects import labels
from fleetc.contract.topology import NO_MACHINES, MachineDeployment, MachineRange
from fleetc.contract.upgrades import UpgradePath, upgrade_path
from fleetc.contract.vocabulary import AUTOSCALER_MAX, AUTOSCALER_MIN
from fleetc.core.keys import Manifest, ObjectKey
from fleetc.plan import fleet_labels, renames
from fleetc.plan.diff import FieldChange, ObjectChange, format_path
from fleetc.plan.impact import ClusterImpact, Effect, class_name, created, noop, ordered_effects, removed
from fleetc.plan.revisions import RevisionChange
from fleetc.plan.snapshot import Snapshot
from fleetc.plan.timeouts import deletion_notes
from fleetc.render.names import WAVE_LABEL

_KNOWN_PREFIXES = (
    "spec.topology.version",
    "spec.topology.classRef",
    "spec.topology.controlPlane.replicas",
    "spec.topology.controlPlane.rollout",
    "spec.topology.controlPlane.deletion",
    "spec.topology.variables",
    "spec.clusterNetwork",
    "metadata.labels",
)
_MARK_PATHS = frozenset(
    format_path(["metadata", "annotations", name])
    for name in (fleet_labels.DECOMMISSION_ANNOTATION, fleet_labels.PRUNE_ANNOTATION)
)
_DEPLOYMENTS = "spec.topology.workers.machineDeployments"
_POOLS = "spec.topology.workers.machinePools"
_DEPLOYMENT_FIELDS = (".replicas", ".failureDomain", ".class", ".metadata.annotations", ".name", ".deletion")


@dataclass
class _Changed:
    """Accumulates what one changed cluster goes through."""

    effects: set[Effect] = field(default_factory=set)
    scaling: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    replaced_deployments: set[str] = field(default_factory=set)


Deployments = dict[str, MachineDeployment]


def _deployment_changes(old: Deployments, new: Deployments, acc: _Changed) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Pools removed and added; a pool whose MachineDeployments are renamed (new failure domains) is replaced.

    fleetc names a spread pool's MachineDeployments after their failure domains, so changing the provider's
    failure domains removes some and adds others of the same pool: CAPI deletes the old machines and creates new
    ones (worker machines replaced), which is neither a pool removal nor a scale.
    """
    kept_pools = {d.pool for d in new.values()} & {d.pool for d in old.values()}
    renamed = {name for name in old.keys() ^ new.keys() if (old.get(name) or new[name]).pool in kept_pools}
    removed = tuple(name for name in old if name not in new and name not in renamed)
    added = tuple(name for name in new if name not in old and name not in renamed)
    if removed:
        acc.effects.add(Effect.POOL_REMOVED)
    if added:
        acc.effects.add(Effect.SCALE)
        acc.scaling += [f"{name} added ({new[name].machines} machines)" for name in added]
    for pool in sorted(kept_pools):
        gone = [name for name in old if name in renamed and old[name].pool == pool]
        came = [name for name in new if name in renamed and new[name].pool == pool]
        if gone or came:
            acc.effects.add(Effect.REPLACE)
            acc.replaced_deployments.update(gone)
            acc.notes.append(
                f"pool {pool}: MachineDeployments {', '.join(gone) or '(none)'} → {', '.join(came) or '(none)'} "
                "(failure domains changed: their machines are replaced)"
            )
    for name in (n for n in old if n in new):  # in list order: the output must not depend on set order
        _deployment_change(old[name], new[name], acc)
    return removed, added


def _deployment_change(old: MachineDeployment, new: MachineDeployment, acc: _Changed) -> None:
    if old.machines != new.machines:
        acc.effects.add(Effect.SCALE)
        acc.scaling.append(f"{new.name} {old.machines} → {new.machines}")
    if old.failure_domain != new.failure_domain or old.pool != new.pool:
        acc.effects.add(Effect.REPLACE)
        acc.replaced_deployments.add(new.name)
        what = "failure domain" if old.pool == new.pool else "pool class"
        acc.notes.append(f"{new.name}: {what} changed (its machines are replaced)")
    autoscaler = {AUTOSCALER_MIN, AUTOSCALER_MAX}
    if {k: v for k, v in old.annotations.items() if k not in autoscaler} != {
        k: v for k, v in new.annotations.items() if k not in autoscaler
    }:
        acc.effects.add(Effect.RECONFIGURE)
        acc.notes.append(f"{new.name}: annotations changed")


def _rotation(before: Manifest, after: Manifest, current: Deployments, acc: _Changed) -> bool:
    """A new ``rollout.after`` (machine rotation): every control-plane machine and MachineDeployment is replaced."""
    old, new = topology.rotate_after(before), topology.rotate_after(after)
    if old == new or new is None:
        return False
    acc.effects.add(Effect.REPLACE)
    acc.replaced_deployments.update(n for n, d in current.items() if n in topology.machine_deployments(after))
    acc.notes.append(f"machine rotation: machines created before {new} are replaced (rollout.after)")
    return True


def _variable_notes(before: Manifest, after: Manifest, head_class: Manifest | None, acc: _Changed) -> None:
    old, new = topology.variables(before), topology.variables(after)
    changed = sorted(name for name in old.keys() | new.keys() if old.get(name) != new.get(name))
    if not changed:
        return
    acc.effects.add(Effect.RECONFIGURE)
    texts = list(topology.patch_strings(head_class))
    read = [name for name in changed if any(re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", t) for t in texts)]
    note = f"variables changed: {', '.join(changed)}"
    if read:
        note += f" (read by class patches: {', '.join(read)}; machines may be replaced)"
    acc.notes.append(note)


def _label_notes(before: Manifest, after: Manifest, acc: _Changed) -> None:
    old, new = labels(before), labels(after)
    if old == new:
        return
    acc.effects.add(Effect.METADATA)
    if old.get(WAVE_LABEL) != new.get(WAVE_LABEL):
        acc.notes.append(f"moves from wave {old.get(WAVE_LABEL) or '(none)'} to {new.get(WAVE_LABEL) or '(none)'}")
    keys = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k) and k != WAVE_LABEL)
    if keys:
        acc.notes.append(f"labels changed: {', '.join(keys)}")


def _mark_notes(before: Manifest, after: Manifest, acc: _Changed) -> None:
    was, now = fleet_labels.decommission(before), fleet_labels.decommission(after)
    if was == now:
        return
    acc.effects.add(Effect.MARKED)
    machines = f"{topology.control_plane_replicas(after):,} control-plane and {topology.worker_machines(after)} worker"
    if now:
        acc.notes.append(
            "marked for decommissioning: nothing is deleted now; removing its entry from the spec later deletes the "
            f"CAPI Cluster with its {machines} machines (fleetc apply needs --allow-delete)"
        )
    else:
        acc.notes.append("decommission mark removed: removing its entry later orphans it (left running) again")


def _other_notes(fields: Iterable[FieldChange], acc: _Changed) -> None:
    others = []
    for change in fields:
        path = change.path
        if path.startswith(_KNOWN_PREFIXES) or path in _MARK_PATHS:
            continue
        if path in ("spec.topology.workers", _DEPLOYMENTS, _POOLS):
            continue
        group = next((g for g in (_DEPLOYMENTS, _POOLS) if path.startswith(g + "[")), None)
        if group is not None:
            rest = path[len(group) :].split("]", 1)[1]
            if not rest or rest.startswith((*_DEPLOYMENT_FIELDS, ".failureDomains", ".rollout")):
                continue
        others.append(path)
    if others:
        acc.effects.add(Effect.RECONFIGURE)
        acc.notes.append(f"other fields changed: {', '.join(sorted(set(others)))}")


def _revision_effects(revision: RevisionChange | None, acc: _Changed) -> tuple[bool, tuple[str, ...]]:
    if revision is None:
        return False, ()
    if revision.rolls_control_plane or revision.rolling_pools or revision.moved:
        acc.effects.add(Effect.REPLACE)
    if revision.in_place:
        acc.effects.add(Effect.RECONFIGURE)
        acc.notes.append(f"class changes without machine replacement: {', '.join(revision.in_place)}")
    if revision.patches_changed:
        acc.notes.append("class patches changed: the templates CAPI computes may differ (machines may be replaced)")
    if not (revision.templates or revision.class_fields or revision.moved):
        acc.effects.add(Effect.METADATA)
        acc.notes.append(f"moves to revision {revision.new.hash if revision.new else '?'} (same content)")
    return revision.rolls_control_plane, revision.rolling_pools


def _replaced(
    replicas: int,
    previous: Deployments,
    current: Deployments,
    upgrade: UpgradePath | None,
    cp_rolls: bool,
    pools: Iterable[str],
    moved: set[str],
) -> tuple[int, MachineRange]:
    if upgrade is not None and upgrade.problem is not None:
        return 0, NO_MACHINES  # CAPI refuses the whole update of the Cluster: nothing rolls
    if upgrade is not None:
        upgraded = sum((d.machines for d in current.values() if not d.upgrade_deferred), NO_MACHINES)
        return replicas * len(upgrade.control_plane_steps), upgraded.times(len(upgrade.worker_steps))
    rolling = set(pools)
    workers = sum((d.machines for d in current.values() if d.pool in rolling or d.name in moved), NO_MACHINES)
    workers += sum(
        (d.machines for d in previous.values() if d.name in moved and d.name not in current and d.pool not in rolling),
        NO_MACHINES,
    )
    return (replicas if cp_rolls else 0), workers


def changed(
    key: ObjectKey,
    before: Manifest,
    after: Manifest,
    change: ObjectChange | None,
    revision: RevisionChange | None,
    head_class: Manifest | None,
) -> ClusterImpact:
    """A cluster both sides have; NOOP when nothing but noise differs."""
    acc = _Changed()
    upgrade = None
    old_version, new_version = topology.version(before), topology.version(after)
    if old_version and new_version and old_version != new_version:
        upgrade = upgrade_path(old_version, new_version, topology.kubernetes_versions(head_class))
        acc.effects.add(Effect.UPGRADE)
    cp_rolls, pools = _revision_effects(revision, acc)
    old_ref, new_ref = topology.class_ref(before), topology.class_ref(after)
    if revision is None and old_ref != new_ref:
        acc.effects.add(Effect.REPLACE)
        acc.notes.append(
            f"class changes from {old_ref.name if old_ref else '(none)'} to {new_ref.name if new_ref else '(none)'}, "
            "whose objects are not in both sides: which machines are replaced cannot be told"
        )
    old_replicas, new_replicas = topology.control_plane_replicas(before), topology.control_plane_replicas(after)
    if old_replicas != new_replicas:
        acc.effects.add(Effect.SCALE)
        acc.scaling.insert(0, f"control plane {old_replicas} → {new_replicas}")
    old_deployments, current = topology.worker_groups(before), topology.worker_groups(after)
    removed, added = _deployment_changes(old_deployments, current, acc)
    cp_rolls = _rotation(before, after, current, acc) or cp_rolls
    _variable_notes(before, after, head_class, acc)
    if (before.get("spec") or {}).get("clusterNetwork") != (after.get("spec") or {}).get("clusterNetwork"):
        acc.effects.add(Effect.RECONFIGURE)
        acc.notes.append("clusterNetwork changed (pod/service CIDRs are not changed on a running cluster)")
    _label_notes(before, after, acc)
    _mark_notes(before, after, acc)
    if deleting := deletion_notes(before, after):
        acc.effects.add(Effect.RECONFIGURE)
        acc.notes.extend(deleting)
    fields = change.fields if change is not None else ()
    _other_notes(fields, acc)
    cp_replaced, workers_replaced = _replaced(
        new_replicas, old_deployments, current, upgrade, cp_rolls, pools, acc.replaced_deployments
    )
    rolling = tuple(sorted({d.pool for d in current.values() if d.pool in pools}))
    return ClusterImpact(
        key,
        fleet_labels.wave(after),
        ordered_effects(acc.effects),
        version=new_version,
        cluster_class=class_name(after),
        fleet_class=fleet_labels.fleet_class(after),
        control_plane=new_replicas,
        workers=sum((d.machines for d in current.values()), NO_MACHINES),
        control_plane_replaced=cp_replaced,
        workers_replaced=workers_replaced,
        upgrade=upgrade,
        revision=revision,
        rolling_pools=rolling,
        pools_removed=removed,
        workers_deleted=sum((old_deployments[n].machines for n in removed), NO_MACHINES),
        pools_added=added,
        scaling=tuple(acc.scaling),
        notes=tuple(acc.notes),
        source=fleet_labels.source(after),
        marked=fleet_labels.decommission(after),
        fields=fields,
    )


def _with_renames(impacts: list[ClusterImpact], base: Snapshot, head: Snapshot) -> list[ClusterImpact]:
    """A cluster removed and another created with the same spec: say it looks like a rename (CAPI has none)."""
    gone = {i.key: i for i in impacts if i.removed}
    created = [i.key for i in impacts if i.effect is Effect.CREATED]
    pairs = renames.twins(gone, created, base.objects, head.objects)
    partners = {**pairs, **{new: old for old, new in pairs.items()}}
    out = []
    for impact in impacts:
        partner = partners.get(impact.key)
        if partner is None:
            out.append(impact)
            continue
        old = impact.key if impact.removed else partner
        note = renames.twin_note(
            impact.key, partner, removed=impact.removed, decommissioned=gone[old].effect is Effect.DECOMMISSIONED
        )
        out.append(dataclasses.replace(impact, renamed=renames.shown(partner, impact.key), notes=(note,)))
    return out


def cluster_impacts(
    base: Snapshot,
    head: Snapshot,
    changes: Mapping[ObjectKey, ObjectChange],
    revisions: Mapping[tuple[ObjectKey, ObjectKey], RevisionChange],
) -> tuple[ClusterImpact, ...]:
    """The impact on every cluster of either side, sorted by name (NOOP for the unchanged ones)."""
    old, new = topology.clusters(base.objects), topology.clusters(head.objects)
    impacts: list[ClusterImpact] = []
    for key in sorted(old.keys() | new.keys()):
        if key not in old:
            impacts.append(created(key, new[key]))
        elif key not in new:
            impacts.append(removed(key, old[key]))
        elif key not in changes:
            impacts.append(noop(key, new[key]))
        else:
            refs = (topology.class_ref(old[key]), topology.class_ref(new[key]))
            revision = revisions.get(refs) if refs[0] and refs[1] else None  # type: ignore[arg-type]
            head_class = head.objects.get(refs[1]) if refs[1] else None
            impacts.append(changed(key, old[key], new[key], changes[key], revision, head_class))
    return tuple(_with_renames(impacts, base, head))


def revision_index(revisions: Iterable[RevisionChange]) -> dict[tuple[ObjectKey, ObjectKey], RevisionChange]:
    """Revision changes by (old ClusterClass, new ClusterClass), as :func:`cluster_impacts` looks them up."""
    return {(r.old.key, r.new.key): r for r in revisions if r.old is not None and r.new is not None}
