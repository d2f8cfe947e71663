"""Where a cross-revision finding points: the spec line that decides it, as exactly as the side allows.

With the fleet model (``fleetc diff --base``), a version finding points at the cluster's pinned ``version`` or at
the channel in ``fleet.yaml`` it follows, and a class finding at the class's pool; from a built tree, at the
``fleetc.io/source`` annotation fleetc left on the object (``clusters/eu.yaml:12``), else at the object itself.

Caller: :mod:`fleetc.plan.policy`.
"""

from __future__ import annotations

from dataclasses import dataclass

from fleetc.core.diagnostics import Diagnostic, FieldPath, Severity, SourceLocation, format_field_path
from fleetc.core.keys import Manifest, ObjectKey
from fleetc.plan import fleet_labels
from fleetc.plan.snapshot import Snapshot


def _annotated(manifest: Manifest | None, fallback: str) -> SourceLocation:
    source = fleet_labels.source(manifest) if manifest is not None else None
    if not source:
        return SourceLocation(fallback)
    path, _, line = source.rpartition(":")
    return SourceLocation(path, int(line)) if path and line.isdigit() else SourceLocation(source)


@dataclass(frozen=True)
class Locator:
    """Builds located diagnostics about the clusters and classes of one side."""

    snapshot: Snapshot

    def version(self, key: ObjectKey, message: str, code: str) -> Diagnostic:
        """A finding about the Kubernetes version a cluster asks for."""
        fleet = self.snapshot.fleet
        entry = fleet.clusters.get(key.name) if fleet is not None else None
        if fleet is None or entry is None:
            return self._on_object(key, ("spec", "topology", "version"), message, code)
        context = f"cluster {key.name}"
        channel = fleet.channel_of(entry.document)
        if channel is None or channel not in fleet.settings.document.spec.versions.channels:
            diagnostic = entry.origin.diagnostic(("spec", "version"), message, code=code)
        else:
            path: FieldPath = ("spec", "versions", "channels", channel)
            diagnostic = fleet.settings.origin.diagnostic(path, message, code=code)
        return Diagnostic(diagnostic.location, diagnostic.field, message, Severity.ERROR, code, context)

    def cluster(self, key: ObjectKey, field: FieldPath, message: str, code: str) -> Diagnostic:
        """A finding about one field of a cluster's spec (in fleet terms when the model is known)."""
        fleet = self.snapshot.fleet
        entry = fleet.clusters.get(key.name) if fleet is not None else None
        if entry is None:
            return self._on_object(key, (), message, code)
        return entry.origin.diagnostic(field, message, code=code)

    def pool(self, class_name: str | None, class_key: ObjectKey, pool: str, message: str, code: str) -> Diagnostic:
        """A finding about a pool of a fleet class (the class document, or the ClusterClass revision)."""
        fleet = self.snapshot.fleet
        entry = fleet.classes.get(class_name) if fleet is not None and class_name else None
        if entry is None:
            return self._on_object(class_key, ("spec", "workers", "machineDeployments"), message, code)
        return entry.origin.diagnostic(("spec", "workers"), message, code=code)

    def _on_object(self, key: ObjectKey, field: FieldPath, message: str, code: str) -> Diagnostic:
        location = _annotated(self.snapshot.objects.get(key), f"{self.snapshot.label}: {key}")
        return Diagnostic(location, format_field_path(field), message, Severity.ERROR, code, f"{key.kind} {key.name}")
