"""``fleetc install --print``: the manifests installing fleetc's CRDs and controller (:mod:`fleetc.engine.install`)."""

from __future__ import annotations

import click

from fleetc.cli.errors import handle_errors
from fleetc.core.errors import OptionError
from fleetc.engine.install import DEFAULT_IMAGE, DEFAULT_NAMESPACE, install_objects, render


@click.command()
@click.option("--print", "print_", is_flag=True, help="Print the manifests (for kubectl apply -f -).")
@click.option("--namespace", default=DEFAULT_NAMESPACE, show_default=True, help="Where the controller runs.")
@click.option("--image", default=DEFAULT_IMAGE, show_default=True, help="The controller's container image.")
@handle_errors
def install(print_: bool, namespace: str, image: str) -> None:
    """CRDs, a ServiceAccount, least-privilege RBAC and a Deployment running ``fleetc controller run``, and a
    ServiceAccount ``fleetc-pipeline`` with the least-privilege RBAC of ``fleetc apply`` (kubectl create token).

    Example: fleetc install --print | kubectl apply --server-side -f -"""
    if not print_:
        raise OptionError("only --print is supported: pipe the output to kubectl apply --server-side -f -")
    click.echo(render(install_objects(namespace, image)), nl=False)
