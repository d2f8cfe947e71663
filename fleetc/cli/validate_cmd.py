"""``fleetc validate``: the fleet spec (default) or a rendered tree against CRD schemas (``--rendered``)."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click
from rich.console import Console

from fleetc.cli import reports
from fleetc.cli.errors import handle_errors
from fleetc.cli.now_option import now_option
from fleetc.cli.output import FORMATS, emit, machine, output_option
from fleetc.cli.targets import open_tree, resolve_targets
from fleetc.core.diagnostics import Diagnostic, SourceLocation, sorted_diagnostics
from fleetc.core.errors import ExitCode, FleetNotFoundError, UsageError
from fleetc.load.loader import read_files
from fleetc.load.sources import DiskTree
from fleetc.render.conformance import check_documents
from fleetc.render.crds import CrdSchemas
from fleetc.schema.validate import validate_tree


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@output_option("--format", formats=(*FORMATS, "github"))
@click.option("--rev", help="Validate a git revision of the fleet (read from git objects) instead of the files.")
@click.option("--summary", is_flag=True, help="Also break the fleet down by wave, provider, class and version.")
@click.option("--rendered", type=click.Path(exists=True, file_okay=False), help="Check a rendered tree instead.")
@click.option("--crds", multiple=True, type=click.Path(exists=True, file_okay=False), help="CRD folder (repeatable).")
@now_option
@handle_errors
def validate(
    paths: tuple[str, ...],
    output: str,
    rev: str | None,
    summary: bool,
    rendered: str | None,
    crds: tuple[str, ...],
    now: datetime,
) -> None:
    """Validate a fleet: every error at once, each as file:line:col: field: message.

    PATHS is a fleet root, a folder in a fleet, or files of fleets (as pre-commit passes them); each file's
    whole fleet is validated. Without PATHS, the fleet around the current folder. With --rendered OUT
    --crds DIR..., check the objects of a built tree against those CRD schemas instead.
    """
    if rendered is not None:
        _validate_rendered(Path(rendered), crds, output)
    cwd = Path.cwd()
    try:
        targets = resolve_targets(paths, cwd)
    except FleetNotFoundError as exc:
        shown = paths[0] if paths else "."
        problem = Diagnostic(SourceLocation(shown), "", str(exc).split(": ", 1)[-1])
        _emit([reports.FleetReport(shown, None, [problem], 0)], output, summary)
        sys.exit(ExitCode.FINDINGS)
    if not targets.roots:
        click.echo(f"fleetc: none of the {len(targets.strays)} given files is inside a fleet; nothing to validate")
        return
    results = []
    for root in targets.roots:
        tree = open_tree(root, cwd, rev)
        result = validate_tree(tree, now=now)
        results.append(reports.FleetReport(tree.label or ".", result.fleet, result.diagnostics, result.files))
    _emit(results, output, summary)
    failed = any(r.fleet is None or reports.counts(r.diagnostics)[0] for r in results)
    sys.exit(ExitCode.FINDINGS if failed else ExitCode.OK)


def _validate_rendered(out: Path, crds: tuple[str, ...], output: str) -> None:
    if not crds:
        raise click.UsageError("--rendered needs at least one --crds folder", ctx=click.get_current_context())
    schemas = CrdSchemas.load(Path(c) for c in crds)
    if not schemas.raw:
        raise UsageError(f"no CustomResourceDefinitions found in {', '.join(crds)}")
    tree = DiskTree.open(out)
    listing = tree.list_yaml()
    loaded = read_files(tree, listing.files)
    diagnostics = sorted_diagnostics(
        [*listing.problems, *loaded.diagnostics, *check_documents(loaded.documents, schemas)]
    )
    report = reports.FleetReport(tree.label, None, diagnostics, len(listing.files), needs_fleet=False)
    _emit([report], output, summary=False, verdict=reports.rendered_verdict(report, len(loaded.documents)))
    sys.exit(ExitCode.FINDINGS if reports.counts(diagnostics)[0] else ExitCode.OK)


def _emit(results: list[reports.FleetReport], output: str, summary: bool, verdict: str | None = None) -> None:
    if machine(output):
        emit(reports.json_payload(results), output)
        return
    if output == "github":
        for result in results:
            for diagnostic in result.diagnostics:
                click.echo(reports.github_annotation(diagnostic))
    console = Console(highlight=False, soft_wrap=True, emoji=False)
    for result in results:
        if output == "text":
            for diagnostic in result.diagnostics:
                style = "red" if diagnostic.severity.value == "error" else "yellow"
                console.print(str(diagnostic), style=style, markup=False)
        console.print(verdict or reports.verdict_line(result), markup=False, style="bold")
        if summary and result.fleet is not None:
            console.print(reports.summary_text(result.fleet), markup=False)
