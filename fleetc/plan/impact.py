"""What a change does to each cluster: created, removed, upgraded, rolled, scaled, reconfigured, or nothing.

Derived from the rendered Cluster objects and the paired class revisions alone, so it reads the same from a
compiled fleet and from two built trees. Machine counts follow CAPI v1.14: an upgrade replaces every control-plane
machine (one at a time, per step of a chained upgrade) and every worker machine (every third step and the last);
a template change replaces the machines of the control plane or of the pools whose templates changed; a scale
adds or removes machines without replacing any. Removing a worker pool of a cluster deletes machines: it is
flagged destructive. New failure domains rename a spread pool's MachineDeployments: their machines are replaced,
not deleted. An update CAPI refuses (a version going down, a skipped minor) replaces nothing.

A cluster that leaves the spec (docs/spec.md, "Removing a cluster") is **orphaned** (left running, no longer
managed by fleetc) unless the base revision marked it ``decommission: true`` (the ``fleetc.io/decommission``
annotation on its rendered Cluster): then it is **decommissioned**, the CAPI Cluster deleted with every machine
(destructive; ``fleetc apply`` needs ``--allow-delete``). Setting or clearing the mark is its own effect.

The model and the impacts of clusters only one side has; :mod:`fleetc.plan.impacts` computes every cluster's.
Callers: :mod:`fleetc.plan.impacts`, the report and its formats.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field

from fleetc.contract import topology
from fleetc.contract.topology import NO_MACHINES, MachineRange
from fleetc.contract.upgrades import UpgradePath
from fleetc.core.diagnostics import SourceLocation
from fleetc.core.keys import Manifest, ObjectKey
from fleetc.plan import fleet_labels
from fleetc.plan.diff import FieldChange
from fleetc.plan.revisions import RevisionChange


class Effect(enum.StrEnum):
    """What happens to a cluster, most severe first."""

    DECOMMISSIONED = "decommissioned"
    ORPHANED = "orphaned"
    CREATED = "created"
    POOL_REMOVED = "pool-removed"
    MARKED = "decommission-mark"
    UPGRADE = "upgrade"
    REPLACE = "replace"
    SCALE = "scale"
    RECONFIGURE = "reconfigure"
    METADATA = "metadata"
    NOOP = "no-op"


EFFECT_ORDER = tuple(Effect)
DESTRUCTIVE = frozenset({Effect.DECOMMISSIONED, Effect.POOL_REMOVED})
REMOVED = frozenset({Effect.DECOMMISSIONED, Effect.ORPHANED})
"""A cluster that left the spec: deleted (marked) or orphaned."""


@dataclass(frozen=True)
class Cause:
    """A spec document that caused a change, and where a reviewer finds the line (:mod:`fleetc.plan.causes`)."""

    what: str
    """``cluster eu-2``, ``channel stable``, ``class standard``, ``provider aws-eu``, ``fleet settings``."""
    location: SourceLocation
    field: str = ""
    """The first field that changed (``spec.sizes.large``), empty for a whole document."""

    def __str__(self) -> str:
        line = f":{self.location.line}" if self.location.line else ""
        field = f" {self.field}" if self.field else ""
        return f"{self.location.path}{line} ({self.what}{field})"


@dataclass(frozen=True)
class ClusterImpact:
    """The effect of the change on one cluster and the machines it replaces."""

    key: ObjectKey
    wave: str | None
    effects: tuple[Effect, ...]
    version: str | None = None
    cluster_class: str | None = None
    fleet_class: str | None = None
    control_plane: int = 0
    workers: MachineRange = NO_MACHINES
    control_plane_replaced: int = 0
    workers_replaced: MachineRange = NO_MACHINES
    upgrade: UpgradePath | None = None
    revision: RevisionChange | None = None
    rolling_pools: tuple[str, ...] = ()
    pools_removed: tuple[str, ...] = ()
    pools_added: tuple[str, ...] = ()
    scaling: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    renamed: str | None = None
    source: str | None = None
    marked: bool = False
    """Marked ``decommission`` on the head side (on the base side, for a removed cluster)."""
    workers_deleted: MachineRange = NO_MACHINES
    """Worker machines of the pools removed (deleted without replacement)."""
    causes: tuple[Cause, ...] = field(default=(), compare=False)
    """The spec documents (file and line) that caused the change; empty when unknown."""
    fields: tuple[FieldChange, ...] = field(default=(), compare=False)

    @property
    def name(self) -> str:
        """The cluster's name."""
        return self.key.name

    @property
    def effect(self) -> Effect:
        """The most severe effect."""
        return self.effects[0]

    @property
    def destructive(self) -> bool:
        """True when machines are deleted without replacement (the cluster, or one of its pools)."""
        return any(e in DESTRUCTIVE for e in self.effects)

    @property
    def removed(self) -> bool:
        """True when the cluster left the spec (decommissioned or orphaned)."""
        return self.effect in REMOVED

    @property
    def changed(self) -> bool:
        """True unless nothing happens to the cluster."""
        return self.effects != (Effect.NOOP,)


def ordered_effects(effects: Iterable[Effect]) -> tuple[Effect, ...]:
    present = set(effects)
    return tuple(e for e in EFFECT_ORDER if e in present) or (Effect.NOOP,)


def class_name(cluster: Manifest) -> str | None:
    ref = topology.class_ref(cluster)
    return ref.name if ref else None


def _whole_cluster(key: ObjectKey, cluster: Manifest, effect: Effect) -> ClusterImpact:
    """A cluster that appears or goes whole, with every machine it has."""
    return ClusterImpact(
        key,
        fleet_labels.wave(cluster),
        (effect,),
        version=topology.version(cluster),
        cluster_class=class_name(cluster),
        control_plane=topology.control_plane_replicas(cluster),
        workers=topology.worker_machines(cluster),
        source=fleet_labels.source(cluster),
        marked=fleet_labels.decommission(cluster),
    )


def created(key: ObjectKey, after: Manifest) -> ClusterImpact:
    """A cluster only the head has."""
    return _whole_cluster(key, after, Effect.CREATED)


def removed(key: ObjectKey, before: Manifest) -> ClusterImpact:
    """A cluster only the base has: decommissioned (every machine goes) when the base marked it, else orphaned."""
    effect = Effect.DECOMMISSIONED if fleet_labels.decommission(before) else Effect.ORPHANED
    return _whole_cluster(key, before, effect)


def noop(key: ObjectKey, cluster: Manifest) -> ClusterImpact:
    """A cluster nothing happens to (machine counts are left out: nothing is replaced)."""
    return ClusterImpact(key, fleet_labels.wave(cluster), (Effect.NOOP,), version=topology.version(cluster))
