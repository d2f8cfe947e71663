"""Removed and created clusters with the same spec: a rename or a namespace move, which CAPI does not have.

CAPI cannot rename a Cluster or move it to another namespace: a new one is created, and the old one is orphaned
(left running, no longer managed) or, when it was marked ``decommission``, deleted with all its machines. The diff
shows exactly that; this module adds the hint a reviewer needs ("looks like renamed to eu-30") by pairing each
removed cluster with a created one of identical spec
(``classRef`` aside), the same name in another namespace first.

Caller: :func:`fleetc.plan.impact.cluster_impacts`.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping

from fleetc.core.keys import Manifest, ObjectKey


def _fingerprint(manifest: Manifest) -> str:
    spec = dict(manifest.get("spec") or {})
    topology = dict(spec.get("topology") or {})
    topology.pop("classRef", None)
    spec["topology"] = topology
    return json.dumps(spec, sort_keys=True, default=str)


def twins(
    deleted: Iterable[ObjectKey],
    created: Iterable[ObjectKey],
    base: Mapping[ObjectKey, Manifest],
    head: Mapping[ObjectKey, Manifest],
) -> dict[ObjectKey, ObjectKey]:
    """Deleted cluster → created cluster with the same spec (linear: clusters are indexed by spec)."""
    by_spec: dict[str, list[ObjectKey]] = defaultdict(list)
    for key in created:
        by_spec[_fingerprint(head[key])].append(key)
    pairs: dict[ObjectKey, ObjectKey] = {}
    for key in deleted:
        candidates = by_spec.get(_fingerprint(base[key]))
        if candidates:
            match = next((k for k in candidates if k.name == key.name), candidates[0])
            candidates.remove(match)
            pairs[key] = match
    return pairs


def shown(key: ObjectKey, other: ObjectKey) -> str:
    """A cluster as named next to its twin: ``ns/name`` when their namespaces differ."""
    return f"{key.namespace}/{key.name}" if key.namespace != other.namespace else key.name


def twin_note(key: ObjectKey, partner: ObjectKey, *, removed: bool, decommissioned: bool) -> str:
    """What the pair looks like (a namespace move or a rename) and what happens: a creation, and the removed cluster
    deleted (it was marked ``decommission``) or orphaned (left running, no longer managed)."""
    fate = "the old one deleted" if decommissioned else "the old one orphaned (left running, no longer managed)"
    if partner.name == key.name:
        old, new = (key, partner) if removed else (partner, key)
        return (
            f"moves from namespace {old.namespace} to {new.namespace}: CAPI cannot move a cluster, so a new one is "
            f"created and {fate}"
        )
    verb = "renamed to" if removed else "renamed from"
    return f"looks like {verb} {shown(partner, key)}: CAPI cannot rename, so a new cluster is created and {fate}"
