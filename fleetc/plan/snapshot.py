"""One side of a diff: the rendered objects of a revision, its waves, and the fleet model when known.

A side is either a :class:`Snapshot` or a :class:`SideFailure` — a revision that did not load, validate or
compile is reported as such and never compared (a one-sided render failure is not a diff).

A snapshot is built from a compiled fleet (:func:`from_rendered_set`, for ``fleetc diff --base``) or from the
objects of a built tree read back from disk (:func:`from_objects`, for ``fleetc diff DIR_A DIR_B``). Everything
downstream reasons about the rendered objects; the fleet model only adds what it knows (wave gates, exact
source locations).

Caller: :mod:`fleetc.plan.sides` (which does the reading) and tests.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from fleetc.contract import topology
from fleetc.contract.objects import labels
from fleetc.core.diagnostics import Diagnostic
from fleetc.core.keys import Manifest, ObjectKey
from fleetc.plan import fleet_labels
from fleetc.render.names import HASH_LENGTH, WAVE_LABEL
from fleetc.render.rendered import RenderedSet
from fleetc.schema.fleet import Wave
from fleetc.schema.model import Fleet
from fleetc.schema.windows import MaintenanceWindow

FLUX_KUSTOMIZATION_GROUP = "kustomize.toolkit.fluxcd.io"


@dataclass(frozen=True)
class WaveInfo:
    """A rollout wave: its clusters in rollout order and, when the fleet model is known, its gates."""

    name: str
    clusters: tuple[str, ...]
    settings: Wave | None = None
    windows: Mapping[str, MaintenanceWindow] = field(default_factory=dict)
    """Each cluster's maintenance window (clusters without one are left out)."""


@dataclass(frozen=True)
class Snapshot:
    """Every rendered object of one revision, keyed by identity, plus its waves in rollout order."""

    label: str
    objects: Mapping[ObjectKey, Manifest]
    waves: tuple[WaveInfo, ...] = ()
    fleet: Fleet | None = field(default=None, compare=False)

    @property
    def wave_order(self) -> tuple[str, ...]:
        """Wave names in rollout order."""
        return tuple(w.name for w in self.waves)


@dataclass(frozen=True)
class SideFailure:
    """A side that could not be compared: which side, at which stage, why, and its diagnostics."""

    side: str
    label: str
    stage: str
    message: str
    diagnostics: tuple[Diagnostic, ...] = ()


Side = Snapshot | SideFailure


@dataclass(frozen=True)
class SideContents:
    """What one side holds, counted: clusters per wave, per Kubernetes version and per class (on provider)."""

    label: str
    clusters: int
    waves: tuple[tuple[str, int], ...]
    versions: tuple[tuple[str, int], ...]
    classes: tuple[tuple[str, int], ...]


def _class_base(cluster: Manifest) -> str:
    ref = topology.class_ref(cluster)
    if ref is None:
        return "(no class)"
    base, _, suffix = ref.name.rpartition("-")
    return base if base and len(suffix) == HASH_LENGTH and all(c in "0123456789abcdef" for c in suffix) else ref.name


def contents_of(snapshot: Snapshot) -> SideContents:
    """The counts of a snapshot's clusters (waves in rollout order, versions and classes by name)."""
    clusters = topology.clusters(snapshot.objects)
    in_waves = {name for wave in snapshot.waves for name in wave.clusters}
    waves = [(wave.name, len(wave.clusters)) for wave in snapshot.waves]
    unassigned = sum(1 for key in clusters if key.name not in in_waves)
    versions = Counter(topology.version(c) or "?" for c in clusters.values())
    classes = Counter(_class_base(c) for c in clusters.values())
    return SideContents(
        snapshot.label,
        len(clusters),
        tuple(waves + ([("(no wave)", unassigned)] if unassigned else [])),
        tuple(sorted(versions.items())),
        tuple(sorted(classes.items())),
    )


def from_rendered_set(label: str, rendered: RenderedSet, fleet: Fleet | None = None) -> Snapshot:
    """The snapshot of a compiled fleet."""
    objects = {key: obj.manifest for key, obj in rendered.objects.items()}
    waves = tuple(WaveInfo(w.wave.name, w.clusters, w.wave, w.windows) for w in rendered.waves)
    return Snapshot(label, objects, waves, fleet)


def _flux_wave_order(objects: Mapping[ObjectKey, Manifest]) -> list[str]:
    """Wave names in the order fleetc's Flux Kustomizations chain them (by ``dependsOn``)."""
    by_name: dict[str, tuple[str, set[str]]] = {}
    for key, manifest in objects.items():
        wave = labels(manifest).get(WAVE_LABEL)
        if key.group == FLUX_KUSTOMIZATION_GROUP and key.kind == "Kustomization" and wave:
            depends = manifest.get("spec", {}).get("dependsOn") or []
            by_name[key.name] = (wave, {d.get("name", "") for d in depends if isinstance(d, dict)})
    order: list[str] = []
    placed: set[str] = set()
    while len(placed) < len(by_name):
        ready = sorted(n for n, (_, deps) in by_name.items() if n not in placed and deps & by_name.keys() <= placed)
        if not ready:  # a cycle: keep the rest in name order
            ready = sorted(by_name.keys() - placed)
        for name in ready:
            placed.add(name)
            order.append(by_name[name][0])
    return order


def waves_of_objects(objects: Mapping[ObjectKey, Manifest]) -> tuple[WaveInfo, ...]:
    """Waves of a built tree: Cluster ``fleetc.io/wave`` labels, ordered by the Flux chain, else by name."""
    members: dict[str, list[str]] = {}
    for key, manifest in topology.clusters(objects).items():
        wave = fleet_labels.wave(manifest)
        if wave:
            members.setdefault(wave, []).append(key.name)
    order = [w for w in _flux_wave_order(objects) if w in members]
    order += sorted(set(members) - set(order))
    return tuple(WaveInfo(name, tuple(sorted(members[name]))) for name in order)


def from_objects(label: str, manifests: Sequence[Manifest]) -> Snapshot:
    """The snapshot of objects read from a built tree (the caller has checked each has a key)."""
    objects = {ObjectKey.of(m): m for m in manifests}
    return Snapshot(label, objects, waves_of_objects(objects))
