"""Object-level diff of two rendered sets: which objects were added, removed or changed, and which fields.

Objects are matched by :class:`~fleetc.core.keys.ObjectKey`; field changes come from deepdiff (this is the only
module that imports it) on normalised objects (:mod:`fleetc.plan.normalize`), so named list items are matched
by name and noise never shows as a change. Speed: equal objects are skipped by a plain ``==``; for the rest,
subtrees equal on both sides are pruned before deepdiff runs, and identical pruned pairs (the same class
revision bump on thousands of clusters) are compared once.

Caller: :func:`fleetc.plan.report.compare`, and :mod:`fleetc.plan.revisions` for template specs.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from fleetc.core.keys import Manifest, ObjectKey
from fleetc.plan.normalize import keyed, mask_secrets, masked, strip_noise

_MISSING = object()
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


class Op(enum.StrEnum):
    """What happened to an object or a field."""

    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"


@dataclass(frozen=True)
class FieldChange:
    """One changed field: its path (``spec.topology.workers.machineDeployments[name=a].replicas``) and values."""

    path: str
    op: Op
    before: Any = None
    after: Any = None


@dataclass(frozen=True)
class ObjectChange:
    """One object that differs between the two sides (values masked when it is a Secret)."""

    key: ObjectKey
    op: Op
    before: Manifest | None
    after: Manifest | None
    fields: tuple[FieldChange, ...] = ()


def format_path(parts: list[Any]) -> str:
    """``['spec', 'a.b/c', 0, '[name=x]']`` → ``spec["a.b/c"][0][name=x]``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(part, str) and part.startswith("[") and part.endswith("]"):
            out += part
        elif isinstance(part, str) and _PLAIN_KEY.match(part):
            out += f".{part}" if out else part
        else:
            out += f"[{json.dumps(str(part))}]"
    return out


def _prune(before: Any, after: Any) -> tuple[Any, Any]:
    """Both values with every map entry equal on both sides left out (paths to the rest are kept)."""
    if not (isinstance(before, dict) and isinstance(after, dict)):
        return before, after
    pruned_before: dict[str, Any] = {}
    pruned_after: dict[str, Any] = {}
    for key in [*before, *(k for k in after if k not in before)]:  # never set order: it reaches the output
        old, new = before.get(key, _MISSING), after.get(key, _MISSING)
        if old == new:
            continue
        if old is not _MISSING and new is not _MISSING:
            old, new = _prune(old, new)
        if old is not _MISSING:
            pruned_before[key] = old
        if new is not _MISSING:
            pruned_after[key] = new
    return pruned_before, pruned_after


_REPORTS: dict[str, Op] = {
    "values_changed": Op.CHANGED,
    "type_changes": Op.CHANGED,
    "dictionary_item_added": Op.ADDED,
    "dictionary_item_removed": Op.REMOVED,
    "iterable_item_added": Op.ADDED,
    "iterable_item_removed": Op.REMOVED,
    "attribute_added": Op.ADDED,
    "attribute_removed": Op.REMOVED,
}


def _deepdiff(before: Any, after: Any) -> tuple[FieldChange, ...]:
    from deepdiff import DeepDiff  # imported here: ~90 ms that every other fleetc command would pay at start

    tree = DeepDiff(before, after, view="tree", verbose_level=2)
    changes = []
    for report, op in _REPORTS.items():
        for level in tree.get(report, []):
            path = format_path(level.path(output_format="list"))
            old = None if op is Op.ADDED else level.t1
            new = None if op is Op.REMOVED else level.t2
            changes.append(FieldChange(path, op, old, new))
    return tuple(sorted(changes, key=lambda c: c.path))


class FieldDiffer:
    """Field changes between two normalised values, remembering pairs already compared."""

    def __init__(self) -> None:
        self._seen: dict[str, tuple[FieldChange, ...]] = {}

    def __call__(self, before: Any, after: Any) -> tuple[FieldChange, ...]:
        """Every changed field, sorted by path."""
        if before == after:
            return ()
        pruned = _prune(before, after)
        try:
            memo = json.dumps(pruned, sort_keys=True, default=str)
        except TypeError:  # keys of mixed types (a hand-written tree): compare without the memo
            return _deepdiff(*pruned)
        if memo not in self._seen:
            self._seen[memo] = _deepdiff(*pruned)
        return self._seen[memo]


def _object_change(
    key: ObjectKey, before: Manifest | None, after: Manifest | None, differ: FieldDiffer
) -> ObjectChange:
    if before is None:
        return ObjectChange(key, Op.ADDED, None, masked(after or {}))
    if after is None:
        return ObjectChange(key, Op.REMOVED, masked(before), None)
    return ObjectChange(key, Op.CHANGED, masked(before), masked(after), differ(*_normalized_remainder(before, after)))


def _normalized_remainder(before: Manifest, after: Manifest) -> tuple[Any, Any]:
    """Both sides normalised, keeping only what differs: pruning first spares normalising the equal bulk."""
    masked_before, masked_after = mask_secrets(before, after)
    old, new = _prune(masked_before, masked_after)
    old, new = strip_noise(old), strip_noise(new)
    return keyed(old), keyed(new)


def _candidates(base: Mapping[ObjectKey, Manifest], head: Mapping[ObjectKey, Manifest]) -> Iterator[ObjectKey]:
    for key in sorted(base.keys() | head.keys()):
        old, new = base.get(key), head.get(key)
        if old is None or new is None or old != new:
            yield key


def diff_sets(
    base: Mapping[ObjectKey, Manifest], head: Mapping[ObjectKey, Manifest], differ: FieldDiffer | None = None
) -> tuple[ObjectChange, ...]:
    """Every object added, removed or changed (noise-only differences are not changes), sorted by key."""
    differ = differ or FieldDiffer()
    changes = []
    for key in _candidates(base, head):
        change = _object_change(key, base.get(key), head.get(key), differ)
        if change.op is not Op.CHANGED or change.fields:
            changes.append(change)
    return tuple(changes)
