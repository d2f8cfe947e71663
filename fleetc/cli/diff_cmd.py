"""``fleetc diff``: what a change does to the fleet, between two git revisions or two folders.

``fleetc diff [ROOT] --base REF [--head REF]`` reads both revisions from git objects (no checkout; a shallow CI
clone works when the base commit is present; the head defaults to the working tree), compiles both and
compares them. ``fleetc diff DIR_A DIR_B`` compares two folders: fleets (each holding ``fleet.yaml``) or trees
written by ``fleetc build``, or one of each.
Exit codes: 0 no change (or changes without ``--exit-code``), or a broken (invalid) base under a valid head; 1 changes
with ``--exit-code``, deletions with ``--fail-on destructive``, a policy error, or a head that failed;
2 usage. ``fleetc plan`` (:mod:`fleetc.cli.plan_cmd`) shares the options.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from fleetc.cli.errors import handle_errors
from fleetc.cli.output import dump
from fleetc.cli.targets import resolve_targets
from fleetc.core.errors import ExitCode

if TYPE_CHECKING:  # fleetc.plan is imported when a diff runs: ~45 ms that `fleetc validate` need not pay
    from fleetc.plan.report import DiffReport
    from fleetc.plan.snapshot import Side

F = TypeVar("F", bound=Callable[..., Any])
FORMATS = ("text", "markdown", "json", "yaml")
FAIL_ON = ("destructive",)


def compare_options(command: F) -> F:
    """The options ``diff`` and ``plan`` share."""
    options = [
        click.argument(
            "paths", nargs=-1, type=click.Path(exists=True, file_okay=False), metavar="[ROOT | DIR_A DIR_B]"
        ),
        click.option("--base", metavar="REF", help="Git revision to compare against (branch, tag or commit)."),
        click.option("--head", metavar="REF", help="Git revision to compare (default: the files as they are)."),
        click.option(
            "-o",
            "--output",
            "--format",
            "output",
            type=click.Choice(FORMATS),
            default="text",
            show_default=True,
            help="Report format; json and yaml carry the same versioned document (docs/ci.md).",
        ),
        click.option(
            "--exit-code",
            "exit_code_flag",
            is_flag=True,
            help="Exit 1 when anything changes (as git diff --exit-code).",
        ),
        click.option(
            "--fail-on",
            "fail_on",
            type=click.Choice(FAIL_ON),
            multiple=True,
            help="Exit 1 on this kind of change. destructive: a cluster or a worker pool would be deleted "
            "(a decision for a human: CI can require an approval). Repeatable.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def load_sides(
    paths: tuple[str, ...], base: str | None, head: str | None, *, now: datetime | None = None
) -> tuple[Side, Side]:
    """Both sides from the command line: a fleet at two revisions, or two folders (fleets or built trees); ``now``
    dates the checks."""
    from fleetc.plan.sides import open_fleet

    if base is None:
        if head is not None:
            raise click.UsageError("--head needs --base")
        if len(paths) != 2:
            raise click.UsageError(
                "give --base REF (to compare git revisions) or two folders DIR_A DIR_B (fleets or built trees)"
            )
        return folder_side("base", paths[0], now=now), folder_side("head", paths[1], now=now)
    if len(paths) > 1:
        raise click.UsageError("with --base, give at most one fleet ROOT")
    cwd = Path.cwd()
    root = resolve_targets(paths, cwd).roots[0]
    shown = Path(paths[0]).as_posix() if paths else "."
    return open_fleet("base", root, base, shown, now=now), open_fleet("head", root, head, shown, now=now)


def folder_side(side: str, folder: str, *, now: datetime | None = None) -> Side:
    """A folder given as DIR_A or DIR_B: a fleet when it holds ``fleet.yaml`` (validated and compiled, like a side
    read from git), else a tree written by ``fleetc build``."""
    from fleetc.load.sources import FLEET_FILE, DiskTree
    from fleetc.plan.sides import fleet_side, rendered_side

    if (Path(folder) / FLEET_FILE).is_file():
        return fleet_side(side, DiskTree(Path(folder), Path(folder).as_posix()), f"fleet {folder}", now=now)
    return rendered_side(side, folder)


def emit(report: DiffReport, output: str, kind: str) -> None:
    """Print the report in the chosen format (colour only for text on a terminal)."""
    from rich.console import Console

    from fleetc.plan.formats import json_report, markdown, text

    if output == "json":
        click.echo(json_report.render(report, kind=kind), nl=False)
    elif output == "yaml":
        click.echo(dump(json.loads(json_report.render(report, kind=kind)), "yaml"))
    elif output == "markdown":
        click.echo(markdown.render(report, title=f"fleetc {kind}"), nl=False)
    else:
        console = Console(highlight=False, soft_wrap=True, emoji=False)
        for line in text.render(report):
            console.print(line.text, style=line.style or None, markup=False)


def exit_code(report: DiffReport, changes_fail: bool, fail_on: tuple[str, ...] = ()) -> int:
    """The exit code of a diff or plan.

    1 for a policy error, a head that fails, or a base that cannot be read; 1 for any change with
    ``--exit-code``; 1 with ``--fail-on destructive`` when a cluster or pool would be deleted (or when that
    cannot be told because a side failed). A base whose fleet does not validate or compile under a valid head
    exits 0 otherwise: the pull request that fixes a broken base must not be blocked by it. Else 0.
    """
    destructive = "destructive" in fail_on and (bool(report.destroyed) or report.failed)
    failed = report.failed and not report.base_broken
    if failed or report.policy_errors or destructive or (changes_fail and report.changed):
        return ExitCode.FINDINGS
    return ExitCode.OK


@click.command()
@compare_options
@handle_errors
def diff(
    paths: tuple[str, ...],
    base: str | None,
    head: str | None,
    output: str,
    exit_code_flag: bool,
    fail_on: tuple[str, ...],
) -> None:
    """Show what a change does to each cluster: created, deleted, upgraded, rolled, scaled.

    With --base REF: the fleet at ROOT (default: around the current folder) as it is at REF, read from git
    objects (no checkout), against the files as they are (or --head REF). With DIR_A DIR_B: two folders, each a
    fleet (holding fleet.yaml) or a tree built by fleetc build. Exit 1 on a policy error, a head that fails to load
    or compile, a base that cannot be read, (with --exit-code) any change, or (with --fail-on destructive) a cluster
    or pool deletion; a base whose fleet is broken under a valid head is reported and exits 0. 2 on a usage error.

    \b
    fleetc diff --base origin/main --format markdown   (a PR comment)
    fleetc diff --base origin/main --fail-on destructive   (CI: deletions need a human)
    fleetc diff out-old out-new   (two built trees; or two fleet folders)
    """
    from fleetc.plan.report import compare

    report = compare(*load_sides(paths, base, head))
    emit(report, output, "diff")
    sys.exit(exit_code(report, exit_code_flag, fail_on))
