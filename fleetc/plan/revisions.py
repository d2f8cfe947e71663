"""ClusterClass revisions paired across their hash change, and what changed in their templates.

fleetc names a class revision ``<class>-<provider>-<hash>`` (:mod:`fleetc.render.names`), so a template edit
shows up as one ClusterClass and its templates removed and another added. This module pairs them back:
through the clusters whose ``classRef`` moved from one to the other (several revisions can share a base name
when clusters override machine sizes), then compares the templates role by role — infrastructure cluster,
control plane, control-plane machines, and each pool's bootstrap and machines — to say what a cluster's
move to the new revision replaces.

Caller: :func:`fleetc.plan.report.compare`; :mod:`fleetc.plan.impact` and :mod:`fleetc.plan.policy` read
the result.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from fleetc.contract import topology
from fleetc.core.keys import Manifest, ObjectKey
from fleetc.plan.diff import FieldChange, FieldDiffer, Op
from fleetc.plan.normalize import keyed
from fleetc.plan.snapshot import Snapshot
from fleetc.plan.timeouts import DELETION_STAGES
from fleetc.render.names import HASH_LENGTH

_REVISION = re.compile(rf"^(?P<base>.+)-(?P<hash>[0-9a-f]{{{HASH_LENGTH}}})$")
CONTROL_PLANE_ROLES = frozenset({"control plane", "control-plane machines"})


@dataclass(frozen=True, order=True)
class Role:
    """What a template is for in its class: ``control plane``, ``pool general machines``…"""

    part: str
    pool: str = ""

    def __str__(self) -> str:
        return f"pool {self.pool} {self.part}" if self.pool else self.part


@dataclass(frozen=True)
class Revision:
    """A ClusterClass and the templates it references, by role."""

    key: ObjectKey
    cluster_class: Manifest
    templates: Mapping[Role, tuple[ObjectKey, Manifest | None]]

    @property
    def base(self) -> str:
        """The revision-less name (``standard-aws-eu-west-1``)."""
        match = _REVISION.match(self.key.name)
        return match["base"] if match else self.key.name

    @property
    def hash(self) -> str:
        """The content hash (``cee006``), or the whole name when it carries none."""
        match = _REVISION.match(self.key.name)
        return match["hash"] if match else self.key.name

    @property
    def pools(self) -> tuple[str, ...]:
        """Worker classes (pools) the ClusterClass defines."""
        return tuple(sorted({role.pool for role in self.templates if role.pool}))


@dataclass(frozen=True)
class TemplateChange:
    """One template of a revision pair that differs (or exists on one side only)."""

    role: Role
    kind: str
    op: Op
    fields: tuple[FieldChange, ...] = ()


@dataclass(frozen=True)
class RevisionChange:
    """A class revision replaced by another (or new, or retired), the clusters moving, and what differs."""

    old: Revision | None
    new: Revision | None
    clusters: tuple[str, ...]
    templates: tuple[TemplateChange, ...] = ()
    class_fields: tuple[FieldChange, ...] = ()

    @property
    def base(self) -> str:
        """The class-on-provider name both revisions share (the new one's when they differ)."""
        return (self.new or self.old).base  # type: ignore[union-attr]

    @property
    def moved(self) -> bool:
        """True when the clusters move to another class or provider, not just another revision."""
        return self.old is not None and self.new is not None and self.old.base != self.new.base

    @property
    def label(self) -> str:
        """``standard-aws-eu-west-1: revision cee006 → 21be04``."""
        if self.old is None and self.new is not None:
            return f"{self.new.base}: new revision {self.new.hash}"
        if self.new is None and self.old is not None:
            return f"{self.old.base}: revision {self.old.hash} no longer used"
        assert self.old is not None and self.new is not None
        if self.moved:
            return f"{self.old.key.name} → {self.new.key.name} (another class or provider)"
        return f"{self.new.base}: revision {self.old.hash} → {self.new.hash}"

    @property
    def rolls_control_plane(self) -> bool:
        """True when a control-plane template changed (KCP replaces its machines one at a time)."""
        return any(t.role.part in CONTROL_PLANE_ROLES for t in self.templates)

    @property
    def pools_added(self) -> tuple[str, ...]:
        """Pools the new revision defines and the old did not."""
        if self.old is None or self.new is None:
            return ()
        return tuple(sorted(set(self.new.pools) - set(self.old.pools)))

    @property
    def pools_removed(self) -> tuple[str, ...]:
        """Pools the old revision defined and the new does not."""
        if self.old is None or self.new is None:
            return ()
        return tuple(sorted(set(self.old.pools) - set(self.new.pools)))

    @property
    def rolling_pools(self) -> tuple[str, ...]:
        """Pools (on both sides) whose bootstrap or machine template changed: their machines are replaced."""
        gone = set(self.pools_added) | set(self.pools_removed)
        return tuple(sorted({t.role.pool for t in self.templates if t.role.pool and t.role.pool not in gone}))

    @property
    def in_place(self) -> tuple[str, ...]:
        """What changes without replacing machines (infrastructure cluster, health checks, variables…)."""
        notes = [str(t.role) for t in self.templates if not t.role.pool and t.role.part not in CONTROL_PLANE_ROLES]
        return tuple(dict.fromkeys([*notes, *(area for c in self.class_fields for area in _class_areas(c))]))

    @property
    def patches_changed(self) -> bool:
        """True when the class's patches changed: the templates CAPI computes may differ (fleetc cannot tell)."""
        return any(c.path.startswith("spec.patches") for c in self.class_fields)


def _class_areas(change: FieldChange) -> list[str]:
    """What a changed ClusterClass field (``spec.workers.machineDeployments[class=general].deletion…``) is about."""
    path = change.path
    if path.startswith("spec.workers"):
        pool_field = path.partition("].")[2]  # the field of one pool's class, past its list entry
        if pool_field.startswith("deletion"):
            return [f"worker {stage} timeouts" for stage in _deletion_stages(change, pool_field)]
        return [
            "worker machine labels and annotations" if pool_field.startswith("metadata") else "worker health checks"
        ]
    if path.startswith("spec.controlPlane.deletion"):
        return [
            f"control-plane {stage} timeout" for stage in _deletion_stages(change, path[len("spec.controlPlane.") :])
        ]
    areas = (
        ("spec.patches", "patches"),
        ("spec.variables", "variable definitions"),
        ("spec.kubernetesVersions", "kubernetesVersions"),
        ("spec.controlPlane.healthCheck", "control-plane health check"),
        ("spec.controlPlane.metadata", "control-plane machine labels and annotations"),
    )
    return [next((label for prefix, label in areas if path.startswith(prefix)), path)]


def _deletion_stages(change: FieldChange, deletion_path: str) -> list[str]:
    """The deletion stages (``drain``, ``volume detach``) whose timeouts a change of ``deletion…`` touches."""
    field = deletion_path.partition(".")[2]
    if field:
        return [DELETION_STAGES.get(field, field)]
    before = change.before if isinstance(change.before, dict) else {}
    after = change.after if isinstance(change.after, dict) else {}
    touched = {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}
    return [stage for key, stage in DELETION_STAGES.items() if key in touched] or ["drain"]


def _ref_key(ref: Any, namespace: str) -> ObjectKey | None:
    if not isinstance(ref, dict) or not all(isinstance(ref.get(f), str) for f in ("apiVersion", "kind", "name")):
        return None
    return ObjectKey(ref["apiVersion"].rpartition("/")[0], ref["kind"], namespace, ref["name"])


def _refs(cluster_class: Manifest) -> Iterator[tuple[Role, Any]]:
    spec = cluster_class.get("spec") or {}
    control_plane = spec.get("controlPlane") or {}
    yield Role("infrastructure cluster"), (spec.get("infrastructure") or {}).get("templateRef")
    yield Role("control plane"), control_plane.get("templateRef")
    yield Role("control-plane machines"), (control_plane.get("machineInfrastructure") or {}).get("templateRef")
    workers = spec.get("workers") or {}
    for entry in [*(workers.get("machineDeployments") or []), *(workers.get("machinePools") or [])]:
        if isinstance(entry, dict) and isinstance(entry.get("class"), str):
            yield Role("bootstrap", entry["class"]), (entry.get("bootstrap") or {}).get("templateRef")
            yield Role("machines", entry["class"]), (entry.get("infrastructure") or {}).get("templateRef")


def revisions_of(objects: Mapping[ObjectKey, Manifest]) -> dict[ObjectKey, Revision]:
    """Every ClusterClass of a set with its templates."""
    out: dict[ObjectKey, Revision] = {}
    for key, manifest in objects.items():
        if not topology.is_cluster_class(key):
            continue
        templates: dict[Role, tuple[ObjectKey, Manifest | None]] = {}
        for role, ref in _refs(manifest):
            ref_key = _ref_key(ref, key.namespace)
            if ref_key is not None:
                templates[role] = (ref_key, objects.get(ref_key))
        out[key] = Revision(key, manifest, templates)
    return out


def _renamed(value: Any, old: str, new: str) -> Any:
    """``value`` with the old revision name replaced by the new one in every string (names embed it)."""
    if isinstance(value, str):
        return value.replace(old, new) if old in value else value
    if isinstance(value, dict):
        return {k: _renamed(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_renamed(v, old, new) for v in value]
    return value


def _spec(manifest: Manifest | None, old: str, new: str) -> Any:
    return keyed(_renamed((manifest or {}).get("spec"), old, new))


def _template_changes(old: Revision, new: Revision, differ: FieldDiffer) -> Iterator[TemplateChange]:
    for role in sorted(old.templates.keys() | new.templates.keys()):
        before, after = old.templates.get(role), new.templates.get(role)
        if before is None or after is None:
            key = (after or before)[0]  # type: ignore[index]
            yield TemplateChange(role, key.kind, Op.ADDED if before is None else Op.REMOVED)
            continue
        if before[0].kind != after[0].kind:
            yield TemplateChange(role, f"{before[0].kind} → {after[0].kind}", Op.CHANGED)
            continue
        fields = differ(
            {"spec": _spec(before[1], old.key.name, new.key.name)},
            {"spec": _spec(after[1], new.key.name, new.key.name)},
        )
        if fields:
            yield TemplateChange(role, after[0].kind, Op.CHANGED, fields)


def compare_revisions(old: Revision, new: Revision, clusters: tuple[str, ...], differ: FieldDiffer) -> RevisionChange:
    """What differs between two revisions of a class (templates by role, and the ClusterClass itself)."""
    templates = tuple(_template_changes(old, new, differ))
    before = {"spec": _spec(old.cluster_class, old.key.name, new.key.name)}
    after = {"spec": _spec(new.cluster_class, new.key.name, new.key.name)}
    class_fields = tuple(
        f
        for f in differ(before, after)
        if not f.path.endswith(".templateRef.name") and not f.path.endswith(".templateRef.kind")
    )
    return RevisionChange(old, new, clusters, templates, class_fields)


def _transitions(base: Snapshot, head: Snapshot) -> dict[tuple[ObjectKey, ObjectKey], list[str]]:
    moves: dict[tuple[ObjectKey, ObjectKey], list[str]] = defaultdict(list)
    head_clusters = topology.clusters(head.objects)
    for key, before in topology.clusters(base.objects).items():
        after = head_clusters.get(key)
        if after is None:
            continue
        old, new = topology.class_ref(before), topology.class_ref(after)
        if old is not None and new is not None and old != new:
            moves[(old, new)].append(key.name)
    return moves


def _same_content(old: Revision, new: Revision) -> bool:
    """True when a revision kept its name and its content (the usual case: the name is a content hash)."""
    if old.cluster_class != new.cluster_class or old.templates.keys() != new.templates.keys():
        return False
    return all(old.templates[role][1] == new.templates[role][1] for role in old.templates)


def _users(snapshot: Snapshot) -> dict[ObjectKey, list[str]]:
    users: dict[ObjectKey, list[str]] = defaultdict(list)
    for key, manifest in topology.clusters(snapshot.objects).items():
        ref = topology.class_ref(manifest)
        if ref is not None:
            users[ref].append(key.name)
    return users


def pair_revisions(base: Snapshot, head: Snapshot, differ: FieldDiffer) -> tuple[RevisionChange, ...]:
    """Every revision change: pairs (through the clusters that move), new revisions and retired ones."""
    old_revisions, new_revisions = revisions_of(base.objects), revisions_of(head.objects)
    changes: list[RevisionChange] = []
    paired_old: set[ObjectKey] = set()
    paired_new: set[ObjectKey] = set()
    for (old_key, new_key), names in sorted(_transitions(base, head).items()):
        old, new = old_revisions.get(old_key), new_revisions.get(new_key)
        if old is None or new is None:
            continue
        change = compare_revisions(old, new, tuple(sorted(names)), differ)
        if old_key != new_key or change.templates or change.class_fields:
            changes.append(change)
        paired_old.add(old_key)
        paired_new.add(new_key)
    head_users, base_users = _users(head), _users(base)
    for key in sorted(old_revisions.keys() & new_revisions.keys()):
        old, new = old_revisions[key], new_revisions[key]
        if _same_content(old, new):
            continue
        staying = tuple(sorted(set(base_users.get(key, [])) & set(head_users.get(key, []))))
        change = compare_revisions(old, new, staying, differ)
        if change.templates or change.class_fields:
            changes.append(change)
    for key in sorted(new_revisions.keys() - old_revisions.keys() - paired_new):
        changes.append(RevisionChange(None, new_revisions[key], tuple(sorted(head_users.get(key, [])))))
    for key in sorted(old_revisions.keys() - new_revisions.keys() - paired_old):
        changes.append(RevisionChange(old_revisions[key], None, tuple(sorted(base_users.get(key, [])))))
    return tuple(sorted(changes, key=lambda c: (c.base, c.label)))
