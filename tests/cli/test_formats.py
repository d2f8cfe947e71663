"""Output formats of ``fleetc validate``: text (one diagnostic a line), JSON (stable, version 1) and GitHub
workflow annotations (``::error file=…,line=…,col=…,title=…::message`` with GitHub's escaping); ``--summary``.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from fleetc import Diagnostic, DiskTree, Severity, SourceLocation, validate_tree
from fleetc.cli import reports
from tests.builders import FleetBuilder
from tests.cli.conftest import EXAMPLE_FLEET, RunFleetc

DIAGNOSTIC_KEYS = ["file", "line", "column", "field", "severity", "code", "message", "context"]


def _broken(tmp_path: Path) -> FleetBuilder:
    fleet = (
        FleetBuilder.minimal()
        .set("Fleet", None, "spec.versions.catalogue", ["v1.30.4", "v1.34.2", "v1.35.0"])
        .set("Cluster", "eu-1", "spec.provider", "aws-ue")
        .set("Cluster", "eu-2", "spec.chanel", "rapid")
    )
    fleet.write(tmp_path / "fleet")
    return fleet


def _library_diagnostics(tmp_path: Path) -> list[Diagnostic]:
    return validate_tree(DiskTree(tmp_path / "fleet", "fleet")).diagnostics


NETWORKS = {
    "plain": {"pods": ["10.0.0.0/16"], "services": ["10.0.128.0/20"]},
    "ipv6": {"pods": ["fd00:ab:cd::/48"], "services": ["fd00:ab:cd:1::/108"]},
}


@pytest.mark.parametrize("network", ["plain", "ipv6"])
def test_text_prints_each_diagnostic_as_written_then_the_verdict(
    fleetc: RunFleetc, tmp_path: Path, network: str
) -> None:
    """Text output is plain: no markup, no emoji codes (``:ab:`` in an IPv6 CIDR must stay as written)."""
    _broken(tmp_path).set("ClusterClass", "standard", "spec.network", NETWORKS[network]).write(tmp_path / "fleet")
    result = fleetc("validate", "fleet", cwd=tmp_path)
    expected = [str(d) for d in _library_diagnostics(tmp_path)]
    lines = result.stdout.splitlines()
    assert lines[:-1] == expected
    assert lines[-1] == "fleet: fleet test: 1 cluster, 1 class, 2 providers, 2 waves (4 files) — 3 errors, 1 warning"


def test_text_lines_name_file_line_column_and_field(fleetc: RunFleetc, tmp_path: Path) -> None:
    _broken(tmp_path)
    lines = fleetc("validate", "fleet", cwd=tmp_path).stdout.splitlines()[:-1]
    pattern = re.compile(r"^fleet/[\w/.-]+\.yaml:\d+:\d+:( warning:)? [\w.\[\]]+: \S.*$")
    assert lines
    assert [line for line in lines if not pattern.match(line)] == []


def test_json_is_version_2_with_every_diagnostic(fleetc: RunFleetc, tmp_path: Path) -> None:
    _broken(tmp_path)
    result = fleetc("validate", "fleet", "--format", "json", cwd=tmp_path)
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert list(payload) == ["kind", "version", "valid", "fleets", "diagnostics"]
    assert payload["kind"] == "ValidationReport"
    assert (payload["version"], payload["valid"]) == (2, False)
    assert all(list(d) == DIAGNOSTIC_KEYS for d in payload["diagnostics"])
    expected = [
        {
            "file": d.location.path,
            "line": d.location.line,
            "column": d.location.column,
            "field": d.field,
            "severity": d.severity.value,
            "code": d.code,
            "message": d.message,
            "context": d.context,
        }
        for d in _library_diagnostics(tmp_path)
    ]
    assert payload["diagnostics"] == expected


def test_json_fleet_entry_counts_errors_and_warnings(fleetc: RunFleetc, tmp_path: Path) -> None:
    _broken(tmp_path)
    [entry] = json.loads(fleetc("validate", "fleet", "--format", "json", cwd=tmp_path).stdout)["fleets"]
    assert {k: entry[k] for k in ("root", "files", "errors", "warnings", "name")} == {
        "root": "fleet",
        "files": 4,
        "errors": 2,
        "warnings": 1,
        "name": "test",
    }


def test_json_of_a_valid_fleet_says_valid_with_a_summary(fleetc: RunFleetc) -> None:
    result = fleetc("validate", str(EXAMPLE_FLEET), "--format", "json")
    payload = json.loads(result.stdout)
    assert (result.exit_code, payload["valid"], payload["diagnostics"]) == (0, True, [])
    [entry] = payload["fleets"]
    clusters = validate_tree(DiskTree.open(EXAMPLE_FLEET)).fleet
    assert clusters is not None and sum(entry["summary"]["wave"].values()) == len(clusters.clusters)
    assert set(entry["summary"]) == {"wave", "provider type", "class", "version"}


def test_json_output_is_only_json(fleetc: RunFleetc, tmp_path: Path) -> None:
    _broken(tmp_path)
    result = fleetc("validate", "fleet", "--format", "json", "--summary", cwd=tmp_path)
    json.loads(result.stdout)


@pytest.mark.parametrize(
    ("diagnostic", "line"),
    [
        pytest.param(
            Diagnostic(SourceLocation("fleet/a.yaml", 3, 7), "spec.class", "no ClusterClass 'x'"),
            "::error file=fleet/a.yaml,line=3,col=7,title=fleetc%3A spec.class::no ClusterClass 'x'",
            id="error",
        ),
        pytest.param(
            Diagnostic(SourceLocation("fleet/a.yaml", 3, 7), "spec.x", "old", Severity.WARNING),
            "::warning file=fleet/a.yaml,line=3,col=7,title=fleetc%3A spec.x::old",
            id="warning",
        ),
        pytest.param(
            Diagnostic(SourceLocation("fleet/a,b:c%.yaml", 1, 1), "metadata.labels.a:b,c", "x"),
            "::error file=fleet/a%2Cb%3Ac%25.yaml,line=1,col=1,title=fleetc%3A metadata.labels.a%3Ab%2Cc::x",
            id="property-escaping",
        ),
        pytest.param(
            Diagnostic(SourceLocation("f.yaml", 2, 1), "spec", "100% sure: a, b\nsecond\r\nline"),
            "::error file=f.yaml,line=2,col=1,title=fleetc%3A spec::100%25 sure: a, b\\nsecond\\r\\nline",
            id="message-escaping",  # line breaks are escaped where the diagnostic is built (issue 15)
        ),
        pytest.param(
            Diagnostic(SourceLocation("fleet/big.yaml"), "", "file is too big"),
            "::error file=fleet/big.yaml,title=fleetc::file is too big",
            id="no-line-no-field",
        ),
    ],
)
def test_github_annotation_escapes_as_github_documents(diagnostic: Diagnostic, line: str) -> None:
    assert reports.github_annotation(diagnostic) == line


def test_github_format_prints_one_annotation_per_diagnostic(fleetc: RunFleetc, tmp_path: Path) -> None:
    _broken(tmp_path)
    result = fleetc("validate", "fleet", "--format", "github", cwd=tmp_path)
    expected = [reports.github_annotation(d) for d in _library_diagnostics(tmp_path)]
    annotations = [line for line in result.stdout.splitlines() if line.startswith("::")]
    assert result.exit_code == 1
    assert annotations == expected
    assert [a.split(" ", 1)[0] for a in annotations] == ["::error", "::error", "::warning"]


def test_summary_breaks_the_fleet_down(fleetc: RunFleetc) -> None:
    result = fleetc("validate", str(EXAMPLE_FLEET), "--summary")
    fleet = validate_tree(DiskTree.open(EXAMPLE_FLEET)).fleet
    assert fleet is not None
    clusters = [e.document for e in fleet.clusters.values()]
    waves = Counter(w.name for c in clusters if (w := fleet.wave_of(c)))
    versions = Counter(fleet.version_of(c) for c in clusters)
    lines = result.stdout.splitlines()
    assert lines[0].endswith(f"{len(clusters)} clusters, 4 classes, 6 providers, 3 waves (12 files) — valid")
    rows = {line.split(":", 1)[0].strip(): line.split(":", 1)[1].strip() for line in lines[1:]}
    assert rows["wave"] == ", ".join(f"{w.name} {waves[w.name]}" for w in fleet.settings.document.spec.rollout.waves)
    assert rows["version"] == ", ".join(f"{v} {n}" for v, n in sorted(versions.items()))
    assert set(rows) == {"wave", "provider type", "class", "version"}


def test_without_summary_only_the_verdict_is_printed(fleetc: RunFleetc) -> None:
    assert len(fleetc("validate", str(EXAMPLE_FLEET)).stdout.splitlines()) == 1


_CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.io}
spec:
  group: example.io
  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            apiVersion: {type: string}
            kind: {type: string}
            metadata: {type: object}
            spec:
              type: object
              properties:
                size: {type: integer}
"""


@pytest.mark.parametrize(("size", "valid"), [("3", True), ("big", False)])
def test_rendered_json_says_valid_when_every_object_passes(
    fleetc: RunFleetc, tmp_path: Path, size: str, valid: bool
) -> None:
    (tmp_path / "crds").mkdir()
    (tmp_path / "crds" / "widgets.yaml").write_text(_CRD)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "w.yaml").write_text(
        f"apiVersion: example.io/v1\nkind: Widget\nmetadata: {{name: w, namespace: n}}\nspec: {{size: {size}}}\n"
    )
    result = fleetc("validate", "--rendered", "out", "--crds", "crds", "--format", "json", cwd=tmp_path)
    payload = json.loads(result.stdout)
    assert (result.exit_code, payload["valid"]) == ((0, True) if valid else (1, False))
    assert [entry["errors"] for entry in payload["fleets"]] == [0 if valid else 1]
