"""``fleetc plan``: the diff plus the rollout order — waves in order, clusters per wave, gates between them.

Same options and exit codes as ``fleetc diff`` (:mod:`fleetc.cli.diff_cmd`); the gates (maxConcurrent, soak,
control-plane deadline, failure budget) come from the head revision's ``fleet.yaml``. ``--now`` dates the lifecycle
checks: version expiry against the rollout's duration, the next machine rotation per cluster
(:mod:`fleetc.plan.lifecycle`). With ``--target flux`` the text and markdown reports end with
:data:`fleetc.render.flux.FLUX_GATES`: the Flux Kustomizations enforce only the control-plane deadline (the JSON
report, whose schema is published, is unchanged).
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import click

from fleetc.cli.diff_cmd import compare_options, emit, exit_code, load_sides
from fleetc.cli.errors import handle_errors
from fleetc.cli.now_option import now_option


def start_option(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    """``--start 2026-03-02`` or ``2026-03-02T22:00`` (UTC unless an offset is given) → POSIX seconds."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a date such as 2026-03-02 or 2026-03-02T22:00", ctx, param
        ) from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


@click.command()
@compare_options
@now_option
@click.option(
    "--target",
    type=click.Choice(["apply", "flux"]),
    default="apply",
    show_default=True,
    help="What rolls the change out: fleetc apply, or the Flux Kustomizations of fleetc build (which cannot "
    "enforce maxConcurrent, soak or failureBudget; text and markdown say so).",
)
@click.option(
    "--start",
    callback=start_option,
    metavar="DATE",
    help="Estimate when each wave starts and ends from DATE (UTC unless an offset is given); without it, from --now "
    "when a wave waits for approval or has maintenance windows.",
)
@handle_errors
def plan(
    paths: tuple[str, ...],
    base: str | None,
    head: str | None,
    output: str,
    exit_code_flag: bool,
    fail_on: tuple[str, ...],
    now: datetime,
    target: str,
    start: float | None,
) -> None:
    """Show the diff and the rollout order: which waves and clusters change, in order, with their gates.

    Same arguments as fleetc diff; the gates are read from the head revision's fleet.yaml.
    """
    from fleetc.plan.report import compare
    from fleetc.render.flux import FLUX_GATES

    report = compare(*load_sides(paths, base, head, now=now), rollout=True, now=now, start=start)
    emit(report, output, "plan")
    if target == "flux" and output in ("text", "markdown"):
        click.echo(f"\n> {FLUX_GATES}" if output == "markdown" else f"\n{FLUX_GATES}")
    sys.exit(exit_code(report, exit_code_flag, fail_on))
