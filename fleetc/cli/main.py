"""The click group and commands. Each command parses, calls the library, formats; nothing else."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console

from fleetc.cli import reports
from fleetc.cli.targets import open_tree, resolve_targets
from fleetc.core.diagnostics import Diagnostic, SourceLocation
from fleetc.core.errors import FleetcError, FleetNotFoundError, SourceError
from fleetc.schema.documents import KINDS
from fleetc.schema.export import json_schema
from fleetc.schema.validate import validate_tree

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
F = TypeVar("F", bound=Callable[..., Any])


def handle_errors(command: F) -> F:
    """Expected errors print one line and exit with their code; ``--debug`` shows the traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except FleetcError as exc:
            if click.get_current_context().find_root().params.get("debug"):
                raise
            click.echo(f"fleetc: error: {exc}", err=True)
            sys.exit(EXIT_USAGE if isinstance(exc, SourceError) else EXIT_FINDINGS)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"auto_envvar_prefix": "FLEETC", "help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.version_option(package_name="fleetc")
def cli(debug: bool) -> None:
    """fleetc: compile, diff and roll out a fleet of Cluster API clusters kept in git."""


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@click.option("--format", "output", type=click.Choice(["text", "json", "github"]), default="text", show_default=True)
@click.option("--rev", help="Validate a git revision of the fleet (read from git objects) instead of the files.")
@click.option("--summary", is_flag=True, help="Also break the fleet down by wave, provider, class and version.")
@handle_errors
def validate(paths: tuple[str, ...], output: str, rev: str | None, summary: bool) -> None:
    """Validate a fleet: every error at once, each as file:line:col: field: message.

    PATHS is a fleet root, a folder in a fleet, or files of fleets (as pre-commit passes them); each file's
    whole fleet is validated. Without PATHS, the fleet around the current folder.
    """
    cwd = Path.cwd()
    try:
        targets = resolve_targets(paths, cwd)
    except FleetNotFoundError as exc:
        targets_error = Diagnostic(SourceLocation(paths[0] if paths else "."), "", str(exc).split(": ", 1)[-1])
        _emit([reports.FleetReport(paths[0] if paths else ".", None, [targets_error], 0)], output, summary)
        sys.exit(EXIT_FINDINGS)
    if not targets.roots:
        click.echo(f"fleetc: none of the {len(targets.strays)} given files is inside a fleet; nothing to validate")
        return
    results = []
    for root in targets.roots:
        tree = open_tree(root, cwd, rev)
        result = validate_tree(tree)
        results.append(reports.FleetReport(tree.label or ".", result.fleet, result.diagnostics, result.files))
    _emit(results, output, summary)
    failed = any(r.fleet is None or reports.counts(r.diagnostics)[0] for r in results)
    sys.exit(EXIT_FINDINGS if failed else EXIT_OK)


def _emit(results: list[reports.FleetReport], output: str, summary: bool) -> None:
    if output == "json":
        click.echo(reports.json_report(results))
        return
    if output == "github":
        for result in results:
            for diagnostic in result.diagnostics:
                click.echo(reports.github_annotation(diagnostic))
    console = Console(highlight=False, soft_wrap=True)
    for result in results:
        if output == "text":
            for diagnostic in result.diagnostics:
                style = "red" if diagnostic.severity.value == "error" else "yellow"
                console.print(str(diagnostic), style=style, markup=False)
        console.print(reports.verdict_line(result), markup=False, style="bold")
        if summary and result.fleet is not None:
            console.print(reports.summary_text(result.fleet), markup=False)


@cli.command()
@click.option("--kind", type=click.Choice(sorted(KINDS)), help="Only this kind (default: any fleet document).")
def schema(kind: str | None) -> None:
    """Print the JSON Schema of the fleet spec (for yaml-language-server / VS Code)."""
    click.echo(json.dumps(json_schema(kind), indent=2))


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="fleetc")
