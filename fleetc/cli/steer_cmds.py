"""``fleetc rollout status|pause|resume|approve``: inspect and steer a rollout
(``fleetc status``: :mod:`fleetc.cli.status_cmd`).

On the embedded plane (the state file of ``fleetc apply --local``, found as :mod:`fleetc.cli.state_file` says) or,
with ``--context``/``--kubeconfig``, on a management cluster (:mod:`fleetc.cli.management`). ``apply`` and
``simulate`` are in :mod:`fleetc.cli.rollout_cmds`. Exit codes as there; ``rollout status`` exits 3 when the
rollout halted (and, with ``--watch``, 5 when it ends paused or with nobody running it).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from fleetc import rollout
from fleetc.cli import identity, management, rollout_reports
from fleetc.cli.errors import handle_errors
from fleetc.cli.output import emit, machine, output_option
from fleetc.cli.rollout_cmds import (
    STATE_HELP,
    F,
    fault_options,
    faults_of,
    finish,
    notified,
    speed_option,
    writable_state,
)
from fleetc.cli.state_file import find_state
from fleetc.cli.watch import watch_local, watch_remote
from fleetc.core.errors import ExitCode
from fleetc.core.keys import ObjectKey
from fleetc.engine import local


@click.group()
def rollout_group() -> None:
    """Inspect and steer the rollout (embedded plane, or a management cluster with --context/--kubeconfig)."""


def _state_option(command: F) -> F:
    return click.option("--state", type=click.Path(dir_okay=False), help=STATE_HELP)(command)


def _remote_options(command: F) -> F:
    """``--context``/``--kubeconfig`` and which rollout there (``--namespace``, ``--fleet``; default: the only one)."""
    command = click.option("--fleet", help="Management cluster: the fleet whose rollout to use.")(command)
    command = click.option("--namespace", "-n", help="Management cluster: the rollout's namespace.")(command)
    return management.target_options(command)


def _existing(state: str | None) -> Path:
    """The state file given with ``--state`` (which must exist), else the one found from the current folder."""
    if state is None:
        return find_state(Path.cwd())
    path = Path(state)
    if not path.is_file():
        raise click.BadParameter(f"File {state!r} does not exist.", param_hint="'--state'")
    return path


@rollout_group.command("status")
@_state_option
@_remote_options
@output_option("--format")
@click.option(
    "-w",
    "--watch",
    is_flag=True,
    help="Follow the rollout, printing each event, until it completes (0), halts (3) or is paused (5).",
)
@handle_errors
def rollout_status(
    state: str | None,
    kubeconfig: str | None,
    context: str | None,
    namespace: str | None,
    fleet: str | None,
    output: str,
    watch: bool,
) -> None:
    """Waves, clusters and the timeline of the rollout; exit 3 when it halted."""
    target = management.Target(kubeconfig, context)
    said: str | None = None
    if target.chosen and watch:
        view, seed = watch_remote(target, namespace, fleet, output), 0
    elif target.chosen:
        (view, said), seed = management.status_and_runner(target, namespace, fleet), 0
    else:
        path = _existing(state)
        plane, key = _plane_and_key(path)
        view = watch_local(path, output) if watch else local.view_of(plane, key)
        seed = plane.seed
    if machine(output):
        emit(rollout_reports.result_payload([("status", view)], seed), output, sort_keys=True)
    elif not watch:
        rollout_reports.print_result(rollout_reports.console(), view, f"rollout {view.name}")
        if said is not None:
            click.echo(said)
    if view.halted:
        sys.exit(ExitCode.HALTED)
    if watch and view.unfinished:
        sys.exit(ExitCode.UNFINISHED)


@rollout_group.command("pause")
@_state_option
@_remote_options
@handle_errors
def rollout_pause(
    state: str | None, kubeconfig: str | None, context: str | None, namespace: str | None, fleet: str | None
) -> None:
    """Start no further clusters (clusters in flight finish); a running apply honours it."""
    target = management.Target(kubeconfig, context)
    if target.chosen:
        management.pause(target, namespace, fleet)
        return
    local.steer(writable_state(_existing(state)), rollout.pause)
    click.echo("paused: no further cluster starts until fleetc rollout resume")


@rollout_group.command("resume")
@_state_option
@_remote_options
@click.option(
    "--speed",
    type=float,
    default=0.0,
    callback=speed_option,
    help="Run in real time × SPEED (default 0: virtual time).",
)
@click.option(
    "--detach",
    is_flag=True,
    help="Management cluster: only lift the pause or halt, for when a running fleetc apply or the in-cluster "
    "controller carries the rollout out (without it, this command carries it out, as apply does).",
)
@output_option()
@fault_options
@handle_errors
def rollout_resume(
    state: str | None,
    kubeconfig: str | None,
    context: str | None,
    namespace: str | None,
    fleet: str | None,
    speed: float | None,
    detach: bool,
    output: str,
    **kwargs: Any,
) -> None:
    """Lift a pause or a halt (failed clusters of the current wave are retried) and run to the end."""
    target = management.Target(kubeconfig, context)
    if target.chosen:
        management.resume(target, namespace, fleet, output, detach=detach)
        return
    path = writable_state(_existing(state))
    if local.steer(path, rollout.resume, only_if_running=True):
        click.echo("resumed: the running fleetc apply --local carries on", err=machine(output))
        if machine(output):
            emit(rollout_reports.result_payload([("resume", local.view_of(*_plane_and_key(path)))], 0), output,
                 sort_keys=True)  # fmt: skip
        return
    plane = local.open_plane(state=path, faults=faults_of(kwargs), speed=speed or None, notify=True)
    key = local.only_rollout(plane)
    with local.running(plane):
        rollout.resume(plane.store, key)
        settled = local.run_until_settled(plane, key)
        plane.save()
    view = local.view_of(plane, key, settled)
    if machine(output):
        emit(rollout_reports.result_payload([("resume", view)], plane.seed), output, sort_keys=True)
    else:
        console = rollout_reports.console()
        rollout_reports.print_result(console, view, f"rollout {view.name}", timeline=False)
        notified(console, plane)
    finish([("resume", view)])


def _plane_and_key(path: Path) -> tuple[local.LocalPlane, ObjectKey]:
    plane = local.open_plane(state=path, controllers=False)
    return plane, local.only_rollout(plane)


@rollout_group.command("approve")
@click.argument("wave")
@_state_option
@_remote_options
@click.option("--as", "as_", metavar="NAME", help="Who approves (default: $USER, git config user.name, the kube user).")
@handle_errors
def rollout_approve(
    wave: str,
    state: str | None,
    kubeconfig: str | None,
    context: str | None,
    namespace: str | None,
    fleet: str | None,
    as_: str | None,
) -> None:
    """Let WAVE (requireApproval) start; records who and when in the rollout state."""
    target = management.Target(kubeconfig, context)
    if target.chosen:
        by = lambda: identity.approver(as_, os.environ, kube_user=lambda: management.kube_user(target))  # noqa: E731
        management.approve(target, namespace, fleet, wave, by)
        return
    approval, running = local.approve(writable_state(_existing(state)), wave, identity.approver(as_, os.environ))
    click.echo(f"approved wave {wave} (revision {approval.revision}) by {approval.by} at {approval.at}")
    if running:
        click.echo("the running fleetc apply --local starts it")
    else:
        click.echo("run fleetc rollout resume (or fleetc apply --local again) to carry on")
