"""``fleetc rollout status|pause|resume|approve`` and ``fleetc status``: inspect and steer a rollout.

On the embedded plane (the state file of ``fleetc apply --local``) or, with ``--context``/``--kubeconfig``, on a
management cluster (:mod:`fleetc.cli.management`). ``apply`` and ``simulate`` are in :mod:`fleetc.cli.rollout_cmds`.
Exit codes as there.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from fleetc import rollout
from fleetc.cli import identity, management, rollout_reports
from fleetc.cli.errors import handle_errors
from fleetc.cli.rollout_cmds import (
    DEFAULT_STATE,
    F,
    fault_options,
    faults_of,
    finish,
    notified,
    speed_option,
    writable_state,
)
from fleetc.engine import local
from fleetc.runtime.describe import describe


@click.group()
def rollout_group() -> None:
    """Inspect and steer the rollout (embedded plane, or a management cluster with --context/--kubeconfig)."""


def _state_option(command: F) -> F:
    return click.option(
        "--state",
        type=click.Path(dir_okay=False),
        default=DEFAULT_STATE,
        show_default=True,
        help="The embedded plane's state file.",
    )(command)


def _remote_options(command: F) -> F:
    """``--context``/``--kubeconfig`` and which rollout there (``--namespace``, ``--fleet``; default: the only one)."""
    command = click.option("--fleet", help="Management cluster: the fleet whose rollout to use.")(command)
    command = click.option("--namespace", "-n", help="Management cluster: the rollout's namespace.")(command)
    return management.target_options(command)


def _existing(state: str) -> Path:
    path = Path(state)
    if not path.is_file():
        raise click.BadParameter(f"File {state!r} does not exist.", param_hint="'--state'")
    return path


@rollout_group.command("status")
@_state_option
@_remote_options
@click.option("--format", "output", type=click.Choice(["text", "json"]), default="text", show_default=True)
@handle_errors
def rollout_status(
    state: str, kubeconfig: str | None, context: str | None, namespace: str | None, fleet: str | None, output: str
) -> None:
    """Waves, clusters and the timeline of the rollout."""
    target = management.Target(kubeconfig, context)
    if target.chosen:
        management.status(target, namespace, fleet, output)
        return
    plane = local.open_plane(state=_existing(state), controllers=False)
    view = local.view_of(plane, local.only_rollout(plane))
    if output == "json":
        click.echo(rollout_reports.json_result([("status", view)], plane.seed))
        return
    rollout_reports.print_result(rollout_reports.console(), view, f"rollout {view.name}")


@rollout_group.command("pause")
@_state_option
@_remote_options
@handle_errors
def rollout_pause(
    state: str, kubeconfig: str | None, context: str | None, namespace: str | None, fleet: str | None
) -> None:
    """Start no further clusters (clusters in flight finish); a running apply honours it."""
    target = management.Target(kubeconfig, context)
    if target.chosen:
        management.pause(target, namespace, fleet)
        return
    _existing(state)
    local.steer(writable_state(Path(state)), rollout.pause)
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
@fault_options
@handle_errors
def rollout_resume(
    state: str,
    kubeconfig: str | None,
    context: str | None,
    namespace: str | None,
    fleet: str | None,
    speed: float | None,
    **kwargs: Any,
) -> None:
    """Lift a pause or a halt (failed clusters of the current wave are retried) and run to the end."""
    target = management.Target(kubeconfig, context)
    if target.chosen:
        management.resume(target, namespace, fleet)
        return
    path = writable_state(_existing(state))
    if local.steer(path, rollout.resume, only_if_running=True):
        click.echo("resumed: the running fleetc apply --local carries on")
        return
    plane = local.open_plane(state=path, faults=faults_of(kwargs), speed=speed or None, notify=True)
    key = local.only_rollout(plane)
    with local.running(plane):
        rollout.resume(plane.store, key)
        settled = local.run_until_settled(plane, key)
        plane.save()
    view = local.view_of(plane, key, settled)
    console = rollout_reports.console()
    rollout_reports.print_result(console, view, f"rollout {view.name}", timeline=False)
    notified(console, plane)
    finish([("resume", view)])


@rollout_group.command("approve")
@click.argument("wave")
@_state_option
@_remote_options
@click.option("--as", "as_", metavar="NAME", help="Who approves (default: $USER, git config user.name, the kube user).")
@handle_errors
def rollout_approve(
    wave: str,
    state: str,
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
    _existing(state)
    approval, running = local.approve(writable_state(Path(state)), wave, identity.approver(as_, os.environ))
    click.echo(f"approved wave {wave} (revision {approval.revision}) by {approval.by} at {approval.at}")
    if running:
        click.echo("the running fleetc apply --local starts it")
    else:
        click.echo("run fleetc rollout resume (or fleetc apply --local again) to carry on")


@click.command()
@click.argument("cluster", required=False)
@click.option("--state", type=click.Path(dir_okay=False), default=DEFAULT_STATE, show_default=True)
@_remote_options
@handle_errors
def status(
    cluster: str | None,
    state: str,
    kubeconfig: str | None,
    context: str | None,
    namespace: str | None,
    fleet: str | None,
) -> None:
    """A cluster's CAPI objects as a tree (like clusterctl describe), or every cluster's rollout state."""
    target = management.Target(kubeconfig, context)
    if target.chosen:
        management.cluster_status(target, cluster, namespace, fleet)
        return
    plane = local.open_plane(state=_existing(state), controllers=False)
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
