"""``fleetc controller run``: the FleetRollout controller as a long-running process (in a pod, or anywhere).

Options as kubectl and controller-runtime name them; the process is :func:`fleetc.engine.controller.run_controller`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from fleetc.cli.errors import handle_errors
from fleetc.core.errors import OptionError
from fleetc.engine.controller import ControllerOptions, configure_logging, parse_addr, run_controller
from fleetc.engine.install import DEFAULT_NAMESPACE, NAME


@click.group(name="controller")
def controller_group() -> None:
    """The in-cluster controller that carries out rollouts (see ``fleetc install``)."""


@controller_group.command("run")
@click.option("--kubeconfig", type=click.Path(dir_okay=False, path_type=Path), help="Kubeconfig file (default: "
              "KUBECONFIG, ~/.kube/config, then the pod's service account).")  # fmt: skip
@click.option("--context", help="Kubeconfig context (default: current-context).")
@click.option("--namespace", default=DEFAULT_NAMESPACE, show_default=True, help="The controller's namespace (Lease).")
@click.option("--lease-name", default=NAME, show_default=True, help="The Lease the replicas elect a leader on.")
@click.option("--identity", default="", help="This replica's name in the Lease (default: POD_NAME, else host_random).")
@click.option("--lease-duration", type=float, default=15.0, show_default=True,
              help="Seconds a standby waits after the leader's last renewal before taking over.")  # fmt: skip
@click.option("--renew-deadline", type=float, default=10.0, show_default=True,
              help="Seconds the leader keeps acting without a renewal before it steps down.")  # fmt: skip
@click.option("--retry-period", type=float, default=2.0, show_default=True,
              help="Seconds between renewals and attempts to acquire.")  # fmt: skip
@click.option("--health-addr", default=":8081", show_default=True, help="Where /healthz and /readyz listen.")
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--as", "impersonate", help="Act as this user (e.g. system:serviceaccount:NS:NAME, to check RBAC).")
@handle_errors
def controller_run(
    kubeconfig: Path | None,
    context: str | None,
    namespace: str,
    lease_name: str,
    identity: str,
    lease_duration: float,
    renew_deadline: float,
    retry_period: float,
    health_addr: str,
    log_format: str,
    impersonate: str | None,
) -> None:
    """Reconcile FleetRollouts while this replica holds the Lease; SIGTERM releases it and exits 0."""
    if not lease_duration > renew_deadline > retry_period > 0:
        raise OptionError("--lease-duration > --renew-deadline > --retry-period > 0 is required")
    try:
        parse_addr(health_addr)
    except ValueError as exc:
        raise OptionError(str(exc)) from exc
    configure_logging(log_format)
    options = ControllerOptions(
        kubeconfig=kubeconfig,
        context=context,
        namespace=namespace,
        lease_name=lease_name,
        identity=identity,
        lease_duration=lease_duration,
        renew_deadline=renew_deadline,
        retry_period=retry_period,
        health_addr=health_addr,
        impersonate=impersonate,
    )
    sys.exit(run_controller(options))
