"""``fleetc apply --local``, ``fleetc simulate``, ``fleetc rollout status|pause|resume`` and ``fleetc status``.

All of them run on the embedded management plane (:mod:`fleetc.engine.local`): simulated CAPI
controllers over in-memory machines. Exit codes: 0 complete, 1 findings, 2 usage, 3 halted, 4 state file not writable.
"""

from __future__ import annotations

import math
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console, Group
from rich.live import Live
from rich.text import Text

from fleetc import rollout
from fleetc.cli import rollout_reports
from fleetc.cli.errors import handle_errors
from fleetc.cli.targets import open_tree, resolve_targets
from fleetc.core.errors import ExitCode, InvalidFleetError, TargetWriteError
from fleetc.engine import local
from fleetc.load.sources import SourceTree
from fleetc.render.compile import compile_fleet
from fleetc.rollout import RolloutPlan, RolloutView
from fleetc.runtime.describe import describe
from fleetc.schema.validate import validate_tree
from fleetc.sim.inmemory import Faults, load_faults

DEFAULT_STATE = ".fleetc/state.json"
LIVE_EVENTS = 8
F = TypeVar("F", bound=Callable[..., Any])


def fault_options(command: F) -> F:
    """``--faults FILE`` and the fault flags of the simulated in-memory provider."""
    for option in reversed(
        [
            click.option(
                "--faults",
                "faults_file",
                type=click.Path(exists=True, dir_okay=False),
                help="Fault file for the simulated provider (see docs/simulation.md).",
            ),
            click.option(
                "--fail-control-plane",
                multiple=True,
                metavar="CLUSTER[@create|@vX.Y.Z|@REVISION]",
                help="This cluster's control plane never gets a Node (repeatable).",
            ),
            click.option("--fail-pool", multiple=True, metavar="CLUSTER/POOL", help="This pool never gets Nodes."),
            click.option("--slow-boot", multiple=True, metavar="CLUSTER[/POOL]=FACTORx|DURATION", help="Slower boots."),
            click.option(
                "--provider-errors",
                multiple=True,
                metavar="FROM+FOR[@CLUSTER]",
                help="Provider API errors for a while, e.g. 10m+30m.",
            ),
        ]
    ):
        command = option(command)
    return command


def _faults(kwargs: dict[str, Any]) -> Faults:
    flags = Faults.from_flags(
        fail_control_plane=kwargs.pop("fail_control_plane"),
        fail_pool=kwargs.pop("fail_pool"),
        slow_boot=kwargs.pop("slow_boot"),
        provider_errors=kwargs.pop("provider_errors"),
    )
    path = kwargs.pop("faults_file")
    return load_faults(Path(path)).merged(flags) if path else flags


def _speed(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    """``--speed``: a finite number of simulated seconds per real second, 0 or more."""
    if value is not None and (not math.isfinite(value) or value < 0):
        raise click.BadParameter(f"{value:g} is not 0 (virtual time) or a positive number", ctx, param)
    return value


def _writable(state: Path) -> Path:
    """``state``, once its folder exists and takes new files (the state is saved as a new file, then renamed)."""
    try:
        state.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=state.parent):
            pass
    except OSError as exc:
        raise TargetWriteError(f"{state}: cannot write the state file ({exc.strerror or exc})") from exc
    return state


def _plan(tree: SourceTree) -> RolloutPlan:
    result = validate_tree(tree)
    if not result.ok or result.fleet is None:
        for diagnostic in result.diagnostics:
            click.echo(str(diagnostic))
        raise InvalidFleetError(f"{tree.label}: the fleet is not valid; nothing rolled out")
    return rollout.plan_rollout(compile_fleet(result.fleet))


def _root(root: str | None) -> Path:
    return resolve_targets([root] if root else [], Path.cwd()).roots[0]


def _show_live(plane: local.LocalPlane, plan: RolloutPlan, live: Live) -> None:
    """On a terminal: the waves' progress and the latest events, redrawn in place."""
    view = rollout.read_rollout(plane.store, plan.key)
    if view is not None:
        recent = rollout_reports.timeline_lines(view, view.timeline[-LIVE_EVENTS:])
        live.update(Group(rollout_reports.wave_table(view), Text("\n".join(recent))))
    plane.save()


def _printer(plane: local.LocalPlane, plan: RolloutPlan, console: Console) -> Callable[[], None]:
    """Elsewhere (CI logs): each event once, as a line."""
    printed = 0

    def progress() -> None:
        nonlocal printed
        view = rollout.read_rollout(plane.store, plan.key)
        if view is not None:
            for line in rollout_reports.timeline_lines(view, view.timeline[printed:]):
                console.print(line, markup=False)
            printed = len(view.timeline)
        plane.save()

    return progress


def _finish(views: list[tuple[str, RolloutView]]) -> None:
    if any(view.halted for _, view in views):
        sys.exit(ExitCode.HALTED)


@click.command()
@click.argument("root", required=False, type=click.Path(exists=True, file_okay=False))
@click.option("--local", "local_plane", is_flag=True, help="Roll out on the embedded, simulated management plane.")
@click.option(
    "--state",
    type=click.Path(dir_okay=False),
    default=DEFAULT_STATE,
    show_default=True,
    help="Where the embedded plane keeps its state between runs.",
)
@click.option(
    "--speed",
    type=float,
    default=600.0,
    show_default=True,
    callback=_speed,
    help="Simulated seconds per real second; 0 runs in virtual time (as fast as possible, reproducible).",
)
@click.option("--seed", type=int, help="Seed of the simulation (default: the state's, or 0).")
@click.option(
    "--allow-delete",
    is_flag=True,
    help="Delete the clusters this revision decommissions (removed from the spec after being marked "
    "decommission: true). Without it such a revision is refused, exit 1, before anything is applied.",
)
@fault_options
@handle_errors
def apply(
    root: str | None,
    local_plane: bool,
    state: str,
    speed: float,
    seed: int | None,
    allow_delete: bool,
    **kwargs: Any,
) -> None:
    """Roll the fleet out wave by wave, halting when a control plane fails to come up."""
    if not local_plane:
        raise click.UsageError("only --local (the embedded management plane) is available in this version")
    faults = _faults(kwargs)
    state_path = _writable(Path(state))
    fleet_root = _root(root)
    plan = _plan(open_tree(fleet_root, Path.cwd(), None))
    plane = local.open_plane(state=state_path, faults=faults, seed=seed, speed=speed or None)
    console = rollout_reports.console()
    pace = f"{speed:g}× real time" if speed else "virtual time"
    console.print(f"applying {fleet_root.name} on the embedded plane (simulated CAPI, {pace})", markup=False)
    if console.is_terminal:
        with Live(console=console, refresh_per_second=4, transient=True) as live:
            view = local.roll_out(plane, plan, on_step=lambda: _show_live(plane, plan, live), allow_delete=allow_delete)
    else:
        view = local.roll_out(plane, plan, on_step=_printer(plane, plan, console), allow_delete=allow_delete)
    console.print()
    rollout_reports.print_result(console, view, f"rollout {view.name}", timeline=False)
    _finish([("apply", view)])


@click.command()
@click.argument("root", required=False, type=click.Path(exists=True, file_okay=False))
@click.option("--base", help="First create the fleet as it is at this git revision, then roll out ROOT's fleet.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the simulation.")
@click.option("--format", "output", type=click.Choice(["text", "json"]), default="text", show_default=True)
@fault_options
@handle_errors
def simulate(root: str | None, base: str | None, seed: int, output: str, **kwargs: Any) -> None:
    """Run the whole rollout in virtual time (days in seconds) and print the timeline and results."""
    faults = _faults(kwargs)
    fleet_root = _root(root)
    cwd = Path.cwd()
    steps: list[tuple[str, RolloutPlan]] = []
    if base is not None:
        steps.append((f"create at {base}", _plan(open_tree(fleet_root, cwd, base))))
    steps.append(("rollout" if base else "create", _plan(open_tree(fleet_root, cwd, None))))
    plane = local.open_plane(faults=faults, seed=seed)
    views: list[tuple[str, RolloutView]] = []
    for step, plan in steps:
        view = local.roll_out(plane, plan)
        views.append((step, view))
        if view.halted:
            break
    if output == "json":
        click.echo(rollout_reports.json_result(views, seed))
    else:
        console = rollout_reports.console()
        for step, view in views:
            console.rule(f"{step} (virtual time, seed {seed})")
            rollout_reports.print_result(console, view, f"{step}: rollout {view.name}")
    _finish(views)


@click.group()
def rollout_group() -> None:
    """Inspect and steer the rollout on the embedded plane."""


def _state_option(command: F) -> F:
    return click.option(
        "--state",
        type=click.Path(exists=True, dir_okay=False),
        default=DEFAULT_STATE,
        show_default=True,
        help="The embedded plane's state file.",
    )(command)


@rollout_group.command("status")
@_state_option
@click.option("--format", "output", type=click.Choice(["text", "json"]), default="text", show_default=True)
@handle_errors
def rollout_status(state: str, output: str) -> None:
    """Waves, clusters and the timeline of the rollout."""
    plane = local.open_plane(state=Path(state), controllers=False)
    view = local.view_of(plane, local.only_rollout(plane))
    if output == "json":
        click.echo(rollout_reports.json_result([("status", view)], plane.seed))
        return
    rollout_reports.print_result(rollout_reports.console(), view, f"rollout {view.name}")


@rollout_group.command("pause")
@_state_option
@handle_errors
def rollout_pause(state: str) -> None:
    """Start no further clusters (clusters in flight finish)."""
    plane = local.open_plane(state=_writable(Path(state)), controllers=False)
    rollout.pause(plane.store, local.only_rollout(plane))
    plane.save()
    click.echo("paused: no further cluster starts until fleetc rollout resume")


@rollout_group.command("resume")
@_state_option
@click.option(
    "--speed", type=float, default=0.0, callback=_speed, help="Run in real time × SPEED (default 0: virtual time)."
)
@fault_options
@handle_errors
def rollout_resume(state: str, speed: float | None, **kwargs: Any) -> None:
    """Lift a pause or a halt (failed clusters of the current wave are retried) and run to the end."""
    plane = local.open_plane(state=_writable(Path(state)), faults=_faults(kwargs), speed=speed or None)
    key = local.only_rollout(plane)
    rollout.resume(plane.store, key)
    settled = local.run_until_settled(plane, key)
    plane.save()
    view = local.view_of(plane, key, settled)
    rollout_reports.print_result(rollout_reports.console(), view, f"rollout {view.name}", timeline=False)
    _finish([("resume", view)])


@click.command()
@click.argument("cluster", required=False)
@click.option("--state", type=click.Path(exists=True, dir_okay=False), default=DEFAULT_STATE, show_default=True)
@handle_errors
def status(cluster: str | None, state: str) -> None:
    """A cluster's CAPI objects as a tree (like clusterctl describe), or every cluster's rollout state."""
    plane = local.open_plane(state=Path(state), controllers=False)
    console = rollout_reports.console()
    view = local.view_of(plane, local.only_rollout(plane))
    if cluster is None:
        console.print(rollout_reports.cluster_table(view))
        return
    entry = next((c for c in view.clusters if c.name == cluster), None)
    if entry is None:
        raise click.BadParameter(f"no cluster {cluster} in the rollout", param_hint="CLUSTER")
    found = rollout.cluster_objects(plane.store, entry.namespace, cluster)
    objects = [
        *([found.cluster] if found.cluster else []),
        *found.control_planes,
        *found.machine_deployments,
        *found.machines,
    ]
    console.print(rollout_reports.describe_table(describe(objects, plane.clock.now())))
