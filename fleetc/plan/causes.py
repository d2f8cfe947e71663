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
from collections.abc import Iterable
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


def _class_causes(base: Fleet, head: Fleet, name: str) -> list[Cause]:
    entry = head.clusters.get(name)
    if entry is None:
        return []
    spec = entry.document.spec
    causes = []
    class_entry = head.classes.get(spec.class_)
    if class_entry is not None:
        causes.append(_changed(f"class {spec.class_}", class_entry, base.classes.get(spec.class_)))
    provider = head.providers.get(spec.provider)
    if provider is not None:
        causes.append(_changed(f"provider {spec.provider}", provider, base.providers.get(spec.provider)))
    return [c for c in causes if c is not None]


def _settings_cause(base: Fleet, head: Fleet) -> Cause | None:
    """The first change of the fleet's settings other than a channel (a channel is located on its own)."""

    def settings(fleet: Fleet) -> Any:
        data = _dump(fleet.settings)
        data.get("spec", {}).get("versions", {}).pop("channels", None)
        return data

    field = first_difference(settings(base), settings(head))
    return None if field is None else Cause("fleet settings", _at(head.settings, field), format_field_path(field))


def _model_causes(impact: ClusterImpact, base: Fleet, head: Fleet) -> tuple[Cause, ...]:
    name = impact.name
    if impact.removed:
        entry = base.clusters.get(name)
        return (Cause(f"cluster {name}, removed: its line in the base revision", _at(entry, ())),) if entry else ()
    entry = head.clusters.get(name)
    if entry is None:
        return _annotated(impact)
    causes: list[Cause] = []
    own = _changed(f"cluster {name}", entry, None if impact.effect is Effect.CREATED else base.clusters.get(name))
    if own is not None:
        causes.append(own)
    if impact.upgrade is not None:
        version = _version_cause(head, name)
        if version is not None and version not in causes and not version.what.startswith("cluster"):
            causes.append(version)
    if Effect.CREATED not in impact.effects:
        causes += _class_causes(base, head, name)
    settings = _settings_cause(base, head)
    if settings is not None and Effect.CREATED not in impact.effects:
        causes.append(settings)
    return tuple(dict.fromkeys(causes)) or _annotated(impact)


def attribute(impacts: Iterable[ClusterImpact], base: Snapshot, head: Snapshot) -> tuple[ClusterImpact, ...]:
    """Every impact with its causes (changed clusters only; unchanged ones are returned as they are)."""
    out = []
    for impact in impacts:
        if not impact.changed:
            out.append(impact)
            continue
        if base.fleet is not None and head.fleet is not None:
            causes = _model_causes(impact, base.fleet, head.fleet)
        else:
            causes = _annotated(impact)
        out.append(dataclasses.replace(impact, causes=causes))
    return tuple(out)
