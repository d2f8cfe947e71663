"""``fleetc apply`` and ``fleetc simulate`` (``fleetc rollout …`` and ``fleetc status``: :mod:`fleetc.cli.steer_cmds`).

With ``--local`` (``apply``) or by default (the others) they run on the embedded management plane
(:mod:`fleetc.engine.local`): simulated CAPI controllers over in-memory machines, state in a file. With
``--context`` / ``--kubeconfig`` they work on a real management cluster (:mod:`fleetc.cli.management`).
Exit codes: 0 complete (clusters that failed within their waves' failure budgets are named in the result),
1 findings (a rejected dry run), 2 usage, 3 halted, 4 state file not writable or API server unreachable,
5 unfinished (paused, or it stopped progressing).
"""

from __future__ import annotations

import dataclasses
import math
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console, Group
from rich.live import Live
from rich.text import Text

from fleetc import rollout
from fleetc.cli import identity, management, rollout_reports, state_file
from fleetc.cli.errors import INTERRUPTED, handle_errors
from fleetc.cli.output import emit, machine, output_option, show_warnings
from fleetc.cli.targets import open_tree, resolve_targets
from fleetc.contract.timestamps import timestamp
from fleetc.core.errors import ExitCode, InvalidFleetError, TargetWriteError, UnknownWaveError
from fleetc.engine import local, sharded, sim_approvals
from fleetc.load.sources import SourceTree
from fleetc.render.compile import compile_fleet
from fleetc.rollout import Approval, RolloutPlan, RolloutView
from fleetc.schema.model import Fleet
from fleetc.schema.validate import validate_tree
from fleetc.sim.fault_flags import SYNTAX
from fleetc.sim.faults import Faults, load_faults

STATE_HELP = (
    "The embedded plane's state file (default: .fleetc/state.json at the top of the git work tree holding the fleet, "
    "found from any folder inside it)."
)
LIVE_EVENTS = 8
F = TypeVar("F", bound=Callable[..., Any])


FAULT_FLAGS = {
    "fail_control_plane": "This cluster's control plane never gets a Node (repeatable).",
    "fail_pool": "This pool (its first N machines) never gets Nodes.",
    "slow_boot": "Slower boots.",
    "provider_errors": "Provider API errors for a while, e.g. 10m+30m.",
    "fail_node": "Nodes (the first N) stop reporting AFTER joining (UnhealthyNode).",
    "delete_node": "Nodes (the first N) are deleted AFTER joining (NodeDeleted).",
    "block_drain": "A PodDisruptionBudget blocks draining these Nodes (for FOR).",
    "stuck_volumes": "A volume stays attached to these Nodes after their drain (for FOR).",
    "slow_delete": "Deleting these machines' infrastructure takes DURATION.",
}
"""Fault flags and their help; the syntax (``@create|@upgrade|@vX.Y.Z|@REVISION`` qualifiers) is
:data:`fleetc.sim.fault_flags.SYNTAX`."""


def fault_options(command: F) -> F:
    """``--faults FILE`` and the fault flags of the simulated in-memory provider."""
    options = [
        click.option(
            "--faults",
            "faults_file",
            type=click.Path(exists=True, dir_okay=False),
            help="Fault file for the simulated provider (see docs/simulation.md).",
        ),
        *(
            click.option("--" + flag.replace("_", "-"), flag, multiple=True, metavar=SYNTAX[flag], help=text)
            for flag, text in FAULT_FLAGS.items()
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def faults_of(kwargs: dict[str, Any]) -> Faults:
    flags = Faults.from_flags(**{flag: kwargs.pop(flag) for flag in FAULT_FLAGS})
    path = kwargs.pop("faults_file")
    return load_faults(Path(path)).merged(flags) if path else flags


def speed_option(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    """``--speed``: a finite number of simulated seconds per real second, 0 or more."""
    if value is not None and (not math.isfinite(value) or value < 0):
        raise click.BadParameter(f"{value:g} is not 0 (virtual time) or a positive number", ctx, param)
    return value


def writable_state(state: Path) -> Path:
    """``state``, once its folder exists and takes new files (the state is saved as a new file, then renamed)."""
    state_file.prepare(state)
    try:
        with tempfile.TemporaryFile(dir=state.parent):
            pass
    except OSError as exc:
        raise TargetWriteError(f"{state}: cannot write the state file ({exc.strerror or exc})") from exc
    return state


def _plan(tree: SourceTree, *, warn: bool = True) -> RolloutPlan:
    return _compiled(tree, warn=warn)[0]


def _compiled(tree: SourceTree, *, warn: bool = True) -> tuple[RolloutPlan, Fleet]:
    """The rollout plan and fleet of a valid tree; with ``warn``, the fleet's warnings go to stderr first."""
    result = validate_tree(tree)
    if not result.ok or result.fleet is None:
        for diagnostic in result.diagnostics:
            click.echo(str(diagnostic))
        raise InvalidFleetError(f"{tree.label}: the fleet is not valid; nothing rolled out")
    if warn:
        show_warnings(result.diagnostics)
    return rollout.plan_rollout(compile_fleet(result.fleet)), result.fleet


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


def approved_in_advance(plan: RolloutPlan, waves: tuple[str, ...], now: float) -> RolloutPlan:
    """``plan`` with ``apply --approve WAVE`` approvals (by $USER or git's user name, at ``now``)."""
    names = [w.name for w in plan.waves]
    unknown = [w for w in waves if w not in names]
    if unknown:
        raise UnknownWaveError(f"--approve: the rollout has no wave {unknown[0]!r} (its waves: {', '.join(names)})")
    if not waves:
        return plan
    by = identity.approver(None, os.environ)
    approvals = [Approval(wave=w, revision=plan.revision, by=by, at=timestamp(now)) for w in dict.fromkeys(waves)]
    return dataclasses.replace(plan, approvals=tuple(approvals))


def notified(console: Console, plane: local.LocalPlane) -> None:
    """Wait a moment for queued notifications (at most the receivers' timeout), then say what was not delivered."""
    report = plane.notifier.close() if plane.notifier is not None else None
    for line in report.lines() if report else []:
        console.print(line, markup=False)


def finish(views: list[tuple[str, RolloutView]]) -> None:
    if any(view.halted for _, view in views):
        sys.exit(ExitCode.HALTED)
    if any(view.unfinished for _, view in views):
        sys.exit(ExitCode.UNFINISHED)


@click.command()
@click.argument("root", required=False, type=click.Path(exists=True, file_okay=False))
@click.option("--local", "local_plane", is_flag=True, help="Roll out on the embedded, simulated management plane.")
@management.target_options
@click.option(
    "--dry-run",
    type=click.Choice(["server"]),
    help="Management cluster: send every object with dryRun=All and report what the API server rejects (exit 1).",
)
@click.option("--detach", is_flag=True, help="Management cluster: submit the rollout and exit (the in-cluster "
              "controller carries it out).")  # fmt: skip
@click.option("--force-conflicts", is_flag=True, help="Take over fields another field manager owns.")
@click.option(
    "--allow-delete",
    is_flag=True,
    help="Delete the clusters this revision decommissions (removed from the spec after being marked "
    "decommission: true). Without it such a revision is refused, exit 1, before anything is applied.",
)
@click.option("--state", type=click.Path(dir_okay=False), help=STATE_HELP)
@click.option(
    "--speed",
    type=float,
    default=600.0,
    show_default=True,
    callback=speed_option,
    help="Simulated seconds per real second; 0 runs in virtual time (as fast as possible, reproducible).",
)
@click.option("--seed", type=int, help="Seed of the simulation (default: the state's, or 0).")
@output_option()
@click.option(
    "--approve",
    "approve_waves",
    multiple=True,
    metavar="WAVE",
    help="Approve this wave (requireApproval) of this revision in advance, as $USER (repeatable).",
)
@fault_options
@handle_errors
def apply(
    root: str | None,
    local_plane: bool,
    kubeconfig: str | None,
    context: str | None,
    dry_run: str | None,
    detach: bool,
    force_conflicts: bool,
    allow_delete: bool,
    state: str | None,
    speed: float,
    seed: int | None,
    output: str,
    approve_waves: tuple[str, ...],
    **kwargs: Any,
) -> None:
    """Roll the fleet out wave by wave, halting when a control plane fails to come up.

    --local runs it on the embedded, simulated plane; --context/--kubeconfig on a real management cluster."""
    target = management.Target(kubeconfig, context)
    if local_plane and target.chosen:
        raise click.UsageError("--local and --context/--kubeconfig exclude each other")
    if not local_plane and not target.chosen:
        raise click.UsageError("say where to roll out: --local (embedded plane) or --context/--kubeconfig")
    if local_plane and (dry_run or detach or force_conflicts):
        raise click.UsageError("--dry-run, --detach and --force-conflicts need a management cluster (--context)")
    faults = faults_of(kwargs)
    fleet_root = _root(root)
    if target.chosen:
        plan, fleet = _compiled(open_tree(fleet_root, Path.cwd(), None))
        plan = approved_in_advance(plan, approve_waves, time.time())
        management.apply(target, plan, fleet, dry_run=dry_run is not None, detach=detach, force=force_conflicts,
                         label=fleet_root.name, allow_delete=allow_delete, output=output)  # fmt: skip
        return
    state_path = writable_state(Path(state) if state else state_file.default_state(fleet_root))
    plan = _plan(open_tree(fleet_root, Path.cwd(), None))
    plane = local.open_plane(state=state_path, faults=faults, seed=seed, speed=speed or None, notify=True)
    local.check_faults(faults, [plan], plane)
    plan = approved_in_advance(plan, approve_waves, plane.clock.now())
    console = rollout_reports.console(stderr=machine(output))
    done = local.already_complete(plane, plan)
    if done is not None:  # re-applying a rolled-out revision: say so rather than replay its timeline
        console.print(f"nothing to do: rollout {done.name} already completed revision {done.revision}", markup=False)
        if machine(output):
            emit(rollout_reports.result_payload([("apply", done)], plane.seed), output, sort_keys=True)
        return
    pace = f"{speed:g}× real time" if speed else "virtual time"
    console.print(f"applying {fleet_root.name} on the embedded plane (simulated CAPI, {pace})", markup=False)
    try:
        view = _run_local(plane, plan, console, allow_delete)
    except KeyboardInterrupt:
        click.echo(
            f"\nfleetc: interrupted; {state_path} holds the rollout as of its last step: run the same fleetc apply "
            "--local again, or fleetc rollout resume, to continue",
            err=True,
        )
        sys.exit(INTERRUPTED)
    if machine(output):
        emit(rollout_reports.result_payload([("apply", view)], plane.seed), output, sort_keys=True)
    else:
        console.print()
        rollout_reports.print_result(console, view, f"rollout {view.name}", timeline=False)
    notified(console, plane)
    finish([("apply", view)])


def _run_local(plane: local.LocalPlane, plan: RolloutPlan, console: Console, allow_delete: bool) -> RolloutView:
    """The rollout on the embedded plane, its progress redrawn on a terminal or printed line by line."""
    with local.running(plane):
        if console.is_terminal:
            with Live(console=console, refresh_per_second=4, transient=True) as live:
                return local.roll_out(
                    plane, plan, on_step=lambda: _show_live(plane, plan, live), allow_delete=allow_delete
                )
        return local.roll_out(plane, plan, on_step=_printer(plane, plan, console), allow_delete=allow_delete)


@click.command()
@click.argument("root", required=False, type=click.Path(exists=True, file_okay=False))
@click.option("--base", help="First create the fleet as it is at this git revision, then roll out ROOT's fleet.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the simulation.")
@output_option("--format")
@click.option(
    "--approve",
    "approvals",
    multiple=True,
    metavar="WAVE[@DELAY]",
    help="Who approves waves that require approval: WAVE (or * for every wave) DELAY after it asks; 'none': "
    "nobody (the simulation stops there, exit 5). Default: *@1h.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Processes to spread the fleet's clusters over (one core each): the same rollout, sooner, for fleets of "
    "hundreds of clusters or more.",
)
@fault_options
@handle_errors
def simulate(
    root: str | None,
    base: str | None,
    seed: int,
    output: str,
    approvals: tuple[str, ...],
    workers: int,
    **kwargs: Any,
) -> None:
    """Run the whole rollout in virtual time (days in seconds) and print the timeline and results."""
    approvers = sim_approvals.parse_approvals(approvals or sim_approvals.DEFAULT)
    faults = faults_of(kwargs)
    fleet_root = _root(root)
    cwd = Path.cwd()
    steps: list[tuple[str, RolloutPlan]] = []
    if base is not None:
        steps.append((f"create at {base}", _plan(open_tree(fleet_root, cwd, base), warn=False)))
    steps.append(("rollout" if base else "create", _plan(open_tree(fleet_root, cwd, None))))
    local.check_faults(faults, [plan for _, plan in steps])
    if workers > 1:
        with sharded.sharded_plane(workers, faults=faults, seed=seed, approvals=approvers) as shards:
            views = _simulated(steps, faults, lambda plan, now: sharded.roll_out(shards, plan, faults=now))
    else:
        plane = local.open_plane(faults=faults, seed=seed, approvals=approvers)
        views = _simulated(steps, faults, lambda plan, now: local.roll_out(plane, plan, faults=now))
    if machine(output):
        emit(rollout_reports.result_payload(views, seed), output, sort_keys=True)
    else:
        console = rollout_reports.console()
        for step, view in views:
            console.rule(f"{step} (virtual time, seed {seed})")
            rollout_reports.print_result(console, view, f"{step}: rollout {view.name}")
    finish(views)


def _simulated(
    steps: list[tuple[str, RolloutPlan]], faults: Faults, roll_out: Callable[[RolloutPlan, Faults], RolloutView]
) -> list[tuple[str, RolloutView]]:
    """Each step's rollout until one halts; the faults hold for the last step only (the base is created without)."""
    views: list[tuple[str, RolloutView]] = []
    for number, (step, plan) in enumerate(steps, start=1):
        view = roll_out(plan, faults if number == len(steps) else Faults())
        views.append((step, view))
        if view.halted:
            break
    return views
