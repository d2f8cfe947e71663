"""Which spec document caused each cluster's change, and the file and line a reviewer jumps to.

A cluster changes because its own entry changed, because the channel it follows moved, because its class or its
provider changed (both make a new class revision), or because the fleet's settings changed (waves, defaults).
With the fleet model of both sides (``fleetc diff --base``), each cause names the document and the line of the
field that decides it, on the head side (on the base side for a cluster that left the spec). From built trees
(no model) the only cause is the ``fleetc.io/source`` annotation fleetc left on the Cluster.

:func:`attribute` also says whether a class revision's change comes from the class or from the provider, so
the report attributes a provider's change (a new instance type for a size) to the Provider, not the class.

Caller: :func:`fleetc.plan.report.compare`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from fleetc.core.diagnostics import FieldPath, SourceLocation, format_field_path
from fleetc.plan.impact import Cause, ClusterImpact, Effect
from fleetc.plan.snapshot import Snapshot
from fleetc.schema.model import Entry, Fleet


def shown_path(path: str) -> str:
    """A spec path as a reviewer finds it in the repository: ``main:fleet/clusters.yaml`` → ``fleet/clusters.yaml``."""
    revision, colon, rest = path.partition(":")
    return rest if colon and rest and "/" not in revision else path


def _at(entry: Entry[Any], field: FieldPath) -> SourceLocation:
    location, _ = entry.origin.locate(field, at_key=bool(field))
    return SourceLocation(shown_path(location.path), location.line)


def _dump(entry: Entry[Any] | None) -> Any:
    return entry.document.model_dump(mode="json", by_alias=True, exclude_none=True) if entry is not None else None


def first_difference(before: Any, after: Any, path: FieldPath = ()) -> FieldPath | None:
    """The path of the first field that differs between two documents (as written), None when none does."""
    if before == after:
        return None
    if isinstance(before, dict) and isinstance(after, dict):
        for key in [*after, *(k for k in before if k not in after)]:
            found = first_difference(before.get(key), after.get(key), (*path, key))
            if found is not None:
                return found
    return path


def _changed(what: str, entry: Entry[Any], before: Entry[Any] | None) -> Cause | None:
    """A cause at the first field of ``entry`` that differs from ``before`` (the document when it is new)."""
    field = first_difference(_dump(before), _dump(entry)) if before is not None else ()
    if field is None:
        return None
    return Cause(what, _at(entry, field), format_field_path(field))


def _annotated(impact: ClusterImpact) -> tuple[Cause, ...]:
    source = impact.source
    if not source:
        return ()
    path, _, line = source.rpartition(":")
    where = SourceLocation(path, int(line)) if path and line.isdigit() else SourceLocation(source)
    return (Cause(f"cluster {impact.name}", where),)


def _version_cause(fleet: Fleet, name: str) -> Cause | None:
    entry = fleet.clusters.get(name)
    if entry is None:
        return None
    channel = fleet.channel_of(entry.document)
    if channel is None or channel not in fleet.settings.document.spec.versions.channels:
        return Cause(f"cluster {name} version", _at(entry, ("spec", "version")))
    return Cause(f"channel {channel}", _at(fleet.settings, ("spec", "versions", "channels", channel)))


def _settings_cause(base: Fleet, head: Fleet) -> Cause | None:
    """The first change of the fleet's settings other than a channel (a channel is located on its own)."""

    def settings(fleet: Fleet) -> Any:
        data = _dump(fleet.settings)
        data.get("spec", {}).get("versions", {}).pop("channels", None)
        return data

    field = first_difference(settings(base), settings(head))
    return None if field is None else Cause("fleet settings", _at(head.settings, field), format_field_path(field))


class _Documents:
    """The causes shared by many clusters (a class, a provider, the fleet settings), each worked out once."""

    def __init__(self, base: Fleet, head: Fleet) -> None:
        self.base, self.head = base, head
        self.settings = _settings_cause(base, head)
        self._shared: dict[tuple[str, str], Cause | None] = {}

    def _document(self, kind: str, name: str) -> Cause | None:
        if (kind, name) not in self._shared:
            head: Mapping[str, Entry[Any]] = self.head.classes if kind == "class" else self.head.providers
            base: Mapping[str, Entry[Any]] = self.base.classes if kind == "class" else self.base.providers
            entry = head.get(name)
            cause = _changed(f"{kind} {name}", entry, base.get(name)) if entry is not None else None
            self._shared[(kind, name)] = cause
        return self._shared[(kind, name)]

    def class_and_provider(self, name: str) -> list[Cause]:
        """The changes of the class and the provider a head cluster uses."""
        entry = self.head.clusters.get(name)
        if entry is None:
            return []
        spec = entry.document.spec
        causes = [self._document("class", spec.class_), self._document("provider", spec.provider)]
        return [c for c in causes if c is not None]


def _model_causes(impact: ClusterImpact, documents: _Documents) -> tuple[Cause, ...]:
    name, base, head = impact.name, documents.base, documents.head
    if impact.removed:
        entry = base.clusters.get(name)
        return (Cause(f"cluster {name}, removed: its line in the base revision", _at(entry, ())),) if entry else ()
    entry = head.clusters.get(name)
    if entry is None:
        return _annotated(impact)
    created = impact.effect is Effect.CREATED
    own = _changed(f"cluster {name}", entry, None if created else base.clusters.get(name))
    causes = [own] if own is not None else []
    if impact.upgrade is not None:
        version = _version_cause(head, name)
        if version is not None and version not in causes and not version.what.startswith("cluster"):
            causes.append(version)
    if not created:
        causes += documents.class_and_provider(name)
        causes += [documents.settings] if documents.settings is not None else []
    return tuple(dict.fromkeys(causes)) or _annotated(impact)


def attribute(impacts: Iterable[ClusterImpact], base: Snapshot, head: Snapshot) -> tuple[ClusterImpact, ...]:
    """Every impact with its causes (changed clusters only; unchanged ones are returned as they are)."""
    documents = _Documents(base.fleet, head.fleet) if base.fleet is not None and head.fleet is not None else None
    out = []
    for impact in impacts:
        if not impact.changed:
            out.append(impact)
            continue
        causes = _model_causes(impact, documents) if documents is not None else _annotated(impact)
        out.append(dataclasses.replace(impact, causes=causes))
    return tuple(out)
