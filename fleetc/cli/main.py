"""The click group: global options and the list of commands. Each command lives in its own module."""

from __future__ import annotations

import gc
import io
import json
import sys

import click

from fleetc.cli.build_cmd import build
from fleetc.cli.controller_cmd import controller_group
from fleetc.cli.diff_cmd import diff
from fleetc.cli.install_cmd import install
from fleetc.cli.plan_cmd import plan
from fleetc.cli.rollout_cmds import apply, simulate
from fleetc.cli.status_cmd import status
from fleetc.cli.steer_cmds import rollout_group
from fleetc.cli.validate_cmd import validate
from fleetc.cli.version_cmd import accept_debug_everywhere, completion, version
from fleetc.schema.documents import KINDS
from fleetc.schema.export import json_schema


@click.group(context_settings={"auto_envvar_prefix": "FLEETC", "help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.version_option(package_name="fleetc", message="%(prog)s %(version)s")
def cli(debug: bool) -> None:
    """fleetc: compile, diff and roll out a fleet of Cluster API clusters kept in git."""


@cli.command()
@click.option("--kind", type=click.Choice(sorted(KINDS)), help="Only this kind (default: any fleet document).")
def schema(kind: str | None) -> None:
    """Print the JSON Schema of the fleet spec (for yaml-language-server / VS Code)."""
    click.echo(json.dumps(json_schema(kind), indent=2))


cli.add_command(validate)
cli.add_command(build)
cli.add_command(apply)
cli.add_command(simulate)
cli.add_command(rollout_group, name="rollout")
cli.add_command(status)
cli.add_command(diff)
cli.add_command(plan)
cli.add_command(install)
cli.add_command(controller_group, name="controller")
cli.add_command(version)
cli.add_command(completion)


accept_debug_everywhere(cli)


def main() -> None:
    """Console-script entry point."""
    for stream in (sys.stdout, sys.stderr):  # LC_ALL=C or a strict PYTHONIOENCODING must not crash an echo
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
    try:
        cli(prog_name="fleetc")
    finally:
        # Everything is about to be thrown away: spare the collector a last pass over a large heap.
        gc.freeze()
