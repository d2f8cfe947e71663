"""Folding repeated changes: one line per kind of change with the count, the waves and the folded list.

"Kubernetes v1.34.2 → v1.35.0 on 240 clusters" is one group whatever the fleet size; cluster impacts are grouped
by their headline (what happens, without the cluster's name) and object changes by their field changes (the same
``classRef`` bump on 8,000 Cluster objects is one entry). Groups are ordered most severe first, clusters within a
group in rollout order (wave, then name).

Caller: the formatters in :mod:`fleetc.plan.formats`.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from fleetc.contract.topology import NO_MACHINES, MachineRange
from fleetc.core.keys import ObjectKey
from fleetc.plan.diff import FieldChange, ObjectChange, Op
from fleetc.plan.impact import EFFECT_ORDER, ClusterImpact, Effect
from fleetc.plan.revisions import RevisionChange
from fleetc.render.names import HASH_LENGTH

NO_WAVE = "(no wave)"
_HASHED = re.compile(rf"^(?P<base>.+)-[0-9a-f]{{{HASH_LENGTH}}}$")


def _upgrade_part(impact: ClusterImpact) -> str:
    upgrade = impact.upgrade
    assert upgrade is not None
    text = f"Kubernetes {upgrade.before} → {upgrade.after}"
    if upgrade.problem:
        return f"{text} (refused by CAPI: the Cluster is not updated, no machine rolls)"
    return f"{text} via {', '.join(upgrade.via)}" if upgrade.via else text


def _origin(impact: ClusterImpact) -> str:
    """Who made the class revision change: the class, the provider, or both (from the causes)."""
    whats = [c.what for c in impact.causes]
    classes = [w for w in whats if w.startswith("class ")]
    providers = [w for w in whats if w.startswith("provider ")]
    if providers and not classes:
        return f"{' and '.join(providers)} change"
    if classes and providers:
        return f"template change in {classes[0]} and {providers[0]}"
    return f"template change in class {impact.fleet_class}" if impact.fleet_class else "template change"


def _replace_part(impact: ClusterImpact) -> str:
    parts = []
    revision = impact.revision
    if revision is not None and (revision.rolls_control_plane or impact.rolling_pools or revision.moved):
        rolled = ["control plane"] if revision.rolls_control_plane else []
        rolled += [f"pool {p}" for p in impact.rolling_pools]
        what = f"moves to {revision.new.key.name}" if revision.moved and revision.new else _origin(impact)
        parts.append(f"{what}: rolls {', '.join(rolled) or 'no machines'}")
    moved = sorted({n.split(":", 1)[0] for n in impact.notes if "failure domains changed" in n})
    if moved:
        parts.append(f"{', '.join(moved)} moves to other failure domains: its machines are replaced")
    if any("failure domain changed" in n or "pool class changed" in n for n in impact.notes):
        parts.append("pools moved")
    return "; ".join(parts) or "template change"


def _created_part(impact: ClusterImpact) -> str:
    revision = impact.cluster_class or ""
    match = _HASHED.match(revision)
    return f"created at {impact.version or '?'} ({match['base'] if match else revision or 'no class'})"


def _metadata_part(impact: ClusterImpact) -> str:
    moves = [n for n in impact.notes if n.startswith("moves from wave")]
    return moves[0] if moves else "metadata only"


def _pools_removed_part(impact: ClusterImpact) -> str:
    return f"worker pool removed: {', '.join(impact.pools_removed)} (its machines are deleted)"


def _marked_part(impact: ClusterImpact) -> str:
    return "marked for decommissioning" if impact.marked else "decommission mark removed"


def _scale_part(impact: ClusterImpact) -> str:
    return f"scale {', '.join(impact.scaling)}" if impact.scaling else "scale"


_PARTS = {
    Effect.MARKED: _marked_part,
    Effect.POOL_REMOVED: _pools_removed_part,
    Effect.UPGRADE: _upgrade_part,
    Effect.REPLACE: _replace_part,
    Effect.SCALE: _scale_part,
    Effect.METADATA: _metadata_part,
}


def _part(effect: Effect, impact: ClusterImpact) -> str:
    part = _PARTS.get(effect)
    if part is not None:
        return part(impact)
    return "reconfigure (no machine replaced)" if effect is Effect.RECONFIGURE else "metadata only"


def headline(impact: ClusterImpact) -> str:
    """What happens to a cluster, without its name (clusters with the same headline are grouped)."""
    effect = impact.effect
    if effect is Effect.DECOMMISSIONED:
        return (
            "DECOMMISSIONED: the CAPI Cluster is deleted with every machine (marked decommission; "
            "fleetc apply needs --allow-delete)"
        )
    if effect is Effect.ORPHANED:
        return "orphaned: left running, no longer managed by fleetc (not marked decommission)"
    if effect is Effect.CREATED:
        return _created_part(impact)
    if effect is Effect.NOOP:
        return "no change"
    return "; ".join(_part(e, impact) for e in impact.effects)


@dataclass(frozen=True)
class ImpactGroup:
    """Clusters that go through the same change."""

    headline: str
    effect: Effect
    clusters: tuple[ClusterImpact, ...]

    @property
    def destructive(self) -> bool:
        """True when the change deletes machines."""
        return any(c.destructive for c in self.clusters)

    @property
    def control_plane_replaced(self) -> int:
        """Control-plane machines replaced over the group."""
        return sum(c.control_plane_replaced for c in self.clusters)

    @property
    def workers_replaced(self) -> MachineRange:
        """Worker machines replaced over the group."""
        return sum((c.workers_replaced for c in self.clusters), NO_MACHINES)

    def waves(self) -> list[tuple[str, int]]:
        """(wave, clusters) in rollout order."""
        counts = Counter(c.wave or NO_WAVE for c in self.clusters)
        return list(counts.items())

    def by_wave(self) -> list[tuple[str, list[ClusterImpact]]]:
        """The group's clusters per wave, in rollout order."""
        out: dict[str, list[ClusterImpact]] = defaultdict(list)
        for cluster in self.clusters:
            out[cluster.wave or NO_WAVE].append(cluster)
        return list(out.items())


def rollout_key(wave_order: Sequence[str]) -> dict[str, int]:
    """Position of each wave (waves not in the order come last)."""
    return {name: index for index, name in enumerate(wave_order)}


def group_impacts(impacts: Iterable[ClusterImpact], wave_order: Sequence[str]) -> list[ImpactGroup]:
    """Changed clusters grouped by headline, most severe first, clusters in rollout order."""
    position = rollout_key(wave_order)
    groups: dict[str, list[ClusterImpact]] = defaultdict(list)
    for impact in impacts:
        if impact.changed:
            groups[headline(impact)].append(impact)
    out = []
    for text, members in groups.items():
        members.sort(key=lambda c: (position.get(c.wave or "", len(position)), c.name))
        out.append(ImpactGroup(text, members[0].effect, tuple(members)))
    return sorted(out, key=lambda g: (EFFECT_ORDER.index(g.effect), -len(g.clusters), g.headline))


@dataclass(frozen=True)
class ObjectGroup:
    """Objects of one kind with the same change (same fields, same values)."""

    kind: str
    op: Op
    fields: tuple[FieldChange, ...]
    keys: tuple[ObjectKey, ...]


def _signature(change: ObjectChange) -> str:
    fields = [(f.path, f.op.value, f.before, f.after) for f in change.fields]
    return json.dumps([change.key.group, change.key.kind, change.op.value, fields], sort_keys=True, default=str)


def group_objects(changes: Iterable[ObjectChange]) -> list[ObjectGroup]:
    """Object changes grouped by kind and identical field changes; removals first, then changes, then additions."""
    groups: dict[str, list[ObjectChange]] = defaultdict(list)
    for change in changes:
        groups[_signature(change)].append(change)
    out = [ObjectGroup(m[0].key.kind, m[0].op, m[0].fields, tuple(c.key for c in m)) for m in groups.values()]
    order = {Op.REMOVED: 0, Op.CHANGED: 1, Op.ADDED: 2}
    return sorted(out, key=lambda g: (order[g.op], g.kind, -len(g.keys), g.keys[0]))


@dataclass(frozen=True)
class RevisionGroup:
    """Class revisions that changed the same way (one class edited, seen on several providers)."""

    revisions: tuple[RevisionChange, ...]

    @property
    def first(self) -> RevisionChange:
        """The revision whose template and class changes stand for the group."""
        return self.revisions[0]

    @property
    def clusters(self) -> int:
        """Clusters moving over the group."""
        return sum(len(r.clusters) for r in self.revisions)


def _revision_signature(revision: RevisionChange) -> str:
    if revision.old is None or revision.new is None:
        return revision.label
    templates = [
        (str(t.role), t.kind, t.op.value, [(f.path, f.before, f.after) for f in t.fields]) for t in revision.templates
    ]
    fields = [(f.path, f.before, f.after) for f in revision.class_fields]
    return json.dumps([revision.moved, templates, fields], sort_keys=True, default=str)


def group_revisions(revisions: Iterable[RevisionChange]) -> list[RevisionGroup]:
    """Revision changes with identical template and class changes together, in first-seen order."""
    groups: dict[str, list[RevisionChange]] = defaultdict(list)
    for revision in revisions:
        groups[_revision_signature(revision)].append(revision)
    return [RevisionGroup(tuple(members)) for members in groups.values()]


def revision_objects(revisions: Iterable[RevisionChange]) -> set[ObjectKey]:
    """The ClusterClasses and templates of the revisions listed (shown as revisions, not object by object)."""
    keys: set[ObjectKey] = set()
    for revision in revisions:
        for side in (revision.old, revision.new):
            if side is not None and not (revision.old and revision.new and revision.old.key == revision.new.key):
                keys.add(side.key)
                keys.update(key for key, _ in side.templates.values())
    return keys
