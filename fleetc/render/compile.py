"""The compiler: a validated fleet → every CAPI object it implies. Pure: no files, no cluster.

Callers: :func:`fleetc.render.build.build` (``fleetc build``), the diff (:mod:`fleetc.plan.sides`) and the rollout
commands. The fleet must be valid (``validate_tree(...).ok``); compile does not re-check references. What it still
cannot render raises :class:`~fleetc.core.errors.CompileError`, naming the object and the spec line it comes from.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from fleetc.core.diagnostics import SourceLocation
from fleetc.core.errors import CompileError
from fleetc.core.keys import Manifest, ObjectKey
from fleetc.render.addons import owner_addons
from fleetc.render.capacity import capacity_annotations
from fleetc.render.cluster import cluster_object
from fleetc.render.clusterclass import ClassRevision, RevisionInputs, class_revision
from fleetc.render.flux import removal_marks
from fleetc.render.names import (
    CLASS_LABEL,
    FLEET_LABEL,
    PROVIDER_LABEL,
    SOURCE_ANNOTATION,
    WAVE_LABEL,
    source_annotation,
)
from fleetc.render.providers.registry import provider_for
from fleetc.render.rendered import RenderedObject, RenderedSet, WaveClusters
from fleetc.schema.cluster import ClusterDocument
from fleetc.schema.dates import rfc3339
from fleetc.schema.fleet import Wave
from fleetc.schema.model import Entry, Fleet
from fleetc.schema.naming import CONTROL_PLANE_ROLE
from fleetc.schema.shape import ClusterShape, shape_of
from fleetc.schema.windows import MaintenanceWindow


@dataclass
class _Builder:
    fleet: Fleet
    objects: dict[ObjectKey, RenderedObject]
    revisions: dict[tuple[str, str, tuple[tuple[str, str], ...]], ClassRevision]

    def add(self, manifest: Manifest, folder: str, source: str) -> None:
        metadata = manifest["metadata"]
        metadata["labels"] = dict(sorted({**metadata.get("labels", {}), FLEET_LABEL: self.fleet.name}.items()))
        metadata["annotations"] = {**metadata.get("annotations", {}), SOURCE_ANNOTATION: source}
        self.objects[ObjectKey.of(manifest)] = RenderedObject(manifest, folder)

    def revision(self, cluster: ClusterDocument, shape: ClusterShape) -> ClassRevision:
        fleet = self.fleet
        settings = fleet.settings.document.spec
        sizes = {CONTROL_PLANE_ROLE: shape.control_plane_size, **{pool.name: pool.size for pool in shape.pools}}
        inputs = RevisionInputs(
            cluster_class=fleet.classes[cluster.spec.class_].document,
            provider=fleet.providers[cluster.spec.provider].document,
            namespace=settings.namespace,
            versions=tuple(settings.versions.catalogue) if settings.versions.chained_upgrades else None,
            sizes=tuple(sorted(sizes.items())),
            certificates_expiry_days=fleet.rotation_of(cluster).certificates_expiry_days,
        )
        key = (cluster.spec.class_, cluster.spec.provider, inputs.sizes)
        if key not in self.revisions:
            revision = class_revision(inputs)
            source = source_annotation(fleet.classes[cluster.spec.class_].origin.source(), fleet.root)
            for manifest in revision.objects:
                self.add(manifest, f"classes/{revision.name}", source)
            self.revisions[key] = revision
        return self.revisions[key]


def compile_fleet(fleet: Fleet, *, only: Collection[str] | None = None) -> RenderedSet:
    """Every object of the fleet (or of the clusters in ``only`` and what they need)."""
    builder = _Builder(fleet, {}, {})
    selected = [e for name, e in fleet.clusters.items() if only is None or name in only]
    for entry in selected:
        try:
            _add_cluster(builder, entry)
        except CompileError as exc:
            if exc.location is not None:
                raise
            raise exc.located(_written_at(fleet, exc, entry)) from exc
    _add_addons(builder, selected)
    for namespace in sorted(
        {fleet.namespace_of(e.document) for e in selected} | {fleet.settings.document.spec.namespace}
    ):
        manifest = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}
        builder.add(manifest, "namespaces", source_annotation(fleet.settings.origin.source(), fleet.root))
    spec = fleet.settings.document.spec
    return RenderedSet(fleet.name, spec.namespace, builder.objects, _waves(fleet, selected), spec.notifications)


def _add_addons(builder: _Builder, selected: Iterable[Entry[ClusterDocument]]) -> None:
    """The ClusterResourceSets of the classes and providers the selected clusters use, per namespace."""
    fleet = builder.fleet
    owners: dict[tuple[str, str], set[str]] = {}
    for entry in selected:
        namespace = fleet.namespace_of(entry.document)
        owners.setdefault(("class", entry.document.spec.class_), set()).add(namespace)
        owners.setdefault(("provider", entry.document.spec.provider), set()).add(namespace)
    for (kind, name), namespaces in sorted(owners.items()):
        document = fleet.classes[name] if kind == "class" else fleet.providers[name]
        addons = document.document.spec.addons
        source = source_annotation(document.origin.source(), fleet.root)
        for manifest in owner_addons(kind, name, addons, namespaces, fleet.name, fleet.addon_files):
            builder.add(manifest, "addons", source)


def _add_cluster(builder: _Builder, entry: Entry[ClusterDocument]) -> None:
    fleet, cluster = builder.fleet, entry.document
    spec = cluster.spec
    shape = shape_of(cluster, fleet.classes[spec.class_].document)
    revision = builder.revision(cluster, shape)
    provider = fleet.providers[spec.provider].document
    namespace = fleet.namespace_of(cluster)
    class_ref = {"name": revision.name}
    if namespace != fleet.settings.document.spec.namespace:
        class_ref["namespace"] = fleet.settings.document.spec.namespace
    wave = fleet.wave_of(cluster)
    labels = {**fleet.labels_of(cluster), CLASS_LABEL: spec.class_, PROVIDER_LABEL: spec.provider}
    if wave is not None:
        labels[WAVE_LABEL] = wave.name
    variables = [{"name": k, "value": v} for k, v in sorted(spec.variables.items())]
    variables += provider_for(provider.spec.type).cluster_variables(provider, cluster)
    manifest = cluster_object(
        cluster,
        namespace=namespace,
        class_ref=class_ref,
        version=fleet.version_of(cluster) or "",
        shape=shape,
        failure_domains=list(provider.spec.failure_domains),
        variables=variables,
        labels=labels,
        rollout_after=_rollout_after(fleet, cluster),
        capacity={
            pool.name: capacity_annotations(provider, provider.spec.sizes.get(pool.size))
            for pool in shape.pools
            if pool.autoscaling is not None
        },
    )
    builder.add(manifest, f"clusters/{cluster.metadata.name}", source_annotation(entry.origin.source(), fleet.root))
    manifest["metadata"]["annotations"].update(removal_marks(spec.decommission))


def _rollout_after(fleet: Fleet, cluster: ClusterDocument) -> str | None:
    moment = fleet.rotation_of(cluster).rotate_after
    return rfc3339(moment) if moment is not None else None


def _written_at(fleet: Fleet, error: CompileError, cluster: Entry[ClusterDocument]) -> SourceLocation:
    """Where the object an error names is written (the cluster being compiled when it is no class or provider)."""
    documents: dict[str, Mapping[str, Entry[Any]]] = {"ClusterClass": fleet.classes, "Provider": fleet.providers}
    entry = documents.get(error.kind, {}).get(error.name, cluster)
    return entry.origin.source()


def _waves(fleet: Fleet, entries: Iterable[Entry[ClusterDocument]]) -> tuple[WaveClusters, ...]:
    members: dict[str, list[ClusterDocument]] = {w.name: [] for w in fleet.settings.document.spec.rollout.waves}
    for entry in entries:
        wave = fleet.wave_of(entry.document)
        if wave is not None:
            members[wave.name].append(entry.document)
    return tuple(
        WaveClusters(
            wave,
            tuple(sorted(c.metadata.name for c in members[wave.name])),
            {c.metadata.name: fleet.namespace_of(c) for c in members[wave.name]},
            _windows(fleet, wave, members[wave.name]),
        )
        for wave in fleet.settings.document.spec.rollout.waves
    )


def _windows(fleet: Fleet, wave: Wave, members: Iterable[ClusterDocument]) -> dict[str, MaintenanceWindow]:
    """Each cluster's maintenance window: the first label window that selects it, else its wave's."""
    policy = fleet.settings.document.spec.rollout
    found = {c.metadata.name: policy.window_of(wave, fleet.labels_of(c)) for c in members}
    return {name: window for name, window in found.items() if window is not None}
