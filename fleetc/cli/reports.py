"""Renders diagnostics and fleet summaries as text, JSON or GitHub workflow annotations.

Pure functions from values to strings; the commands decide where the strings go.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from fleetc.core.diagnostic_json import diagnostic_json
from fleetc.core.diagnostics import Diagnostic, Severity
from fleetc.schema.cluster import ClusterDocument
from fleetc.schema.model import Fleet

JSON_REPORT_VERSION = 2
"""Version 2: diagnostics take the shared shape of :mod:`fleetc.core.diagnostic_json` (``code``, ``context``)."""


@dataclass(frozen=True)
class FleetReport:
    """The outcome of validating one fleet root."""

    root: str
    fleet: Fleet | None
    diagnostics: Sequence[Diagnostic]
    files: int
    needs_fleet: bool = True
    """False for a rendered tree (``validate --rendered``): valid when no object has an error."""

    @property
    def valid(self) -> bool:
        """No error, and (for a fleet) the fleet loaded."""
        return counts(self.diagnostics)[0] == 0 and (self.fleet is not None or not self.needs_fleet)


def counts(diagnostics: Sequence[Diagnostic]) -> tuple[int, int]:
    """(errors, warnings)."""
    errors = sum(d.severity is Severity.ERROR for d in diagnostics)
    return errors, len(diagnostics) - errors


def _plural(count: int, word: str) -> str:
    suffix = "" if count == 1 else ("es" if word.endswith("s") else "s")
    return f"{count} {word}{suffix}"


def verdict_line(report: FleetReport) -> str:
    """One line saying whether a fleet is valid and how big it is."""
    errors, warnings = counts(report.diagnostics)
    fleet = report.fleet
    size = "fleet not loaded"
    if fleet:
        waves = len(fleet.settings.document.spec.rollout.waves)
        size = (
            f"fleet {fleet.name}: {_plural(len(fleet.clusters), 'cluster')}, {_plural(len(fleet.classes), 'class')}, "
            f"{_plural(len(fleet.providers), 'provider')}, {_plural(waves, 'wave')}"
        )
    status = "valid" if errors == 0 and fleet else f"{_plural(errors, 'error')}"
    tail = f", {_plural(warnings, 'warning')}" if warnings else ""
    return f"{report.root.rstrip(':')}: {size} ({_plural(report.files, 'file')}) — {status}{tail}"


def rendered_verdict(report: FleetReport, objects: int) -> str:
    """One line saying whether a rendered tree passes its CRD schemas."""
    errors, _ = counts(report.diagnostics)
    status = "every object passes its CRD schema" if errors == 0 else _plural(errors, "error")
    return f"{report.root}: {_plural(objects, 'document')} in {_plural(report.files, 'file')} — {status}"


NO_WAVE, SEVERAL_WAVES = "(no wave)", "(several waves)"


def _wave_bucket(fleet: Fleet, cluster: ClusterDocument) -> str:
    waves = fleet.waves_of(cluster)
    return waves[0].name if len(waves) == 1 else (NO_WAVE if not waves else SEVERAL_WAVES)


def summary_rows(fleet: Fleet) -> dict[str, list[tuple[str, int]]]:
    """Cluster counts by wave (in rollout order), provider type, class and Kubernetes version."""
    clusters = [e.document for e in fleet.clusters.values()]
    waves = Counter(_wave_bucket(fleet, c) for c in clusters)
    wave_order = [w.name for w in fleet.settings.document.spec.rollout.waves]
    wave_order += [bucket for bucket in (NO_WAVE, SEVERAL_WAVES) if waves[bucket]]
    types = Counter(
        fleet.providers[c.spec.provider].document.spec.type if c.spec.provider in fleet.providers else "?"
        for c in clusters
    )
    return {
        "wave": [(name, waves[name]) for name in wave_order],
        "provider type": sorted(types.items()),
        "class": sorted(Counter(c.spec.class_ for c in clusters).items()),
        "version": sorted(Counter(fleet.version_of(c) or "?" for c in clusters).items()),
    }


def summary_text(fleet: Fleet) -> str:
    """A plain-text breakdown of the fleet, one line per dimension."""
    lines = []
    for dimension, rows in summary_rows(fleet).items():
        lines.append(f"  {dimension + ':':15} " + ", ".join(f"{name} {count}" for name, count in rows))
    return "\n".join(lines)


def json_payload(reports: Sequence[FleetReport]) -> dict[str, object]:
    """The ``ValidationReport`` document: one entry per fleet, then every diagnostic."""
    return {
        "kind": "ValidationReport",
        "version": JSON_REPORT_VERSION,
        "valid": all(r.valid for r in reports),
        "fleets": [_fleet_json(r) for r in reports],
        "diagnostics": [diagnostic_json(d) for r in reports for d in r.diagnostics],
    }


def json_report(reports: Sequence[FleetReport]) -> str:
    """:func:`json_payload` as stable JSON text."""
    return json.dumps(json_payload(reports), indent=2, sort_keys=False)


def _fleet_json(report: FleetReport) -> dict[str, object]:
    errors, warnings = counts(report.diagnostics)
    entry: dict[str, object] = {
        "root": report.root,
        "files": report.files,
        "errors": errors,
        "warnings": warnings,
    }
    if report.fleet is not None:
        entry["name"] = report.fleet.name
        entry["summary"] = {k: dict(v) for k, v in summary_rows(report.fleet).items()}
    return entry


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_annotation(diagnostic: Diagnostic) -> str:
    """A GitHub Actions workflow command that annotates the file and line in the pull request."""
    location = diagnostic.location
    props = [f"file={_escape_property(location.path)}"]
    if location.line:
        props += [f"line={location.line}", f"col={max(location.column, 1)}"]
    title = f"fleetc: {diagnostic.field}" if diagnostic.field else "fleetc"
    props.append(f"title={_escape_property(title)}")
    return f"::{diagnostic.severity.value} {','.join(props)}::{_escape_data(diagnostic.text)}"
