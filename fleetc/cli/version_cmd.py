"""``fleetc version``, ``fleetc completion bash|zsh|fish`` and ``--debug`` after any subcommand.

``version`` says which fleetc, spec API and CAPI API this is (``-o json|yaml``: the ``Version`` document);
``fleetc --version`` prints the same first line. ``completion`` prints click's completion script for a shell
(``source <(fleetc completion bash)``; zsh and fish alike). :func:`accept_debug_everywhere` gives every command a
``--debug`` flag of its own, so ``fleetc validate --debug`` works as ``fleetc --debug validate`` does.
Caller: :mod:`fleetc.cli.main`.
"""

from __future__ import annotations

import platform
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from typing import Any

import click
from click.shell_completion import get_completion_class

from fleetc.cli.output import emit, machine, output_option
from fleetc.contract.vocabulary import CAPI_API
from fleetc.schema.base import API_VERSION

SHELLS = ("bash", "zsh", "fish")
COMPLETE_VARIABLE = "_FLEETC_COMPLETE"
"""The environment variable click's completion scripts set when they ask ``fleetc`` for completions."""


def fleetc_version() -> str:
    """The installed package's version (``0+unknown`` when run from a tree that is not installed)."""
    try:
        return package_version("fleetc")
    except PackageNotFoundError:
        return "0+unknown"


def version_payload() -> dict[str, Any]:
    """The ``Version`` document."""
    return {
        "kind": "Version",
        "version": 1,
        "fleetc": fleetc_version(),
        "specApiVersion": API_VERSION,
        "capiApiVersion": CAPI_API,
        "python": platform.python_version(),
    }


@click.command()
@output_option()
def version(output: str) -> None:
    """Print fleetc's version, the spec API version it reads and the CAPI API version it writes."""
    payload = version_payload()
    if machine(output):
        emit(payload, output)
        return
    click.echo(f"fleetc {payload['fleetc']}")
    click.echo(f"spec: {payload['specApiVersion']}, CAPI: {payload['capiApiVersion']}, python {payload['python']}")


@click.command()
@click.argument("shell", type=click.Choice(SHELLS))
@click.pass_context
def completion(ctx: click.Context, shell: str) -> None:
    """Print the shell completion script: source <(fleetc completion bash), or save it where your shell loads it."""
    root = ctx.find_root().command
    complete = get_completion_class(shell)
    assert complete is not None  # every name in SHELLS is one of click's
    click.echo(complete(root, {}, "fleetc", COMPLETE_VARIABLE).source())


def _set_debug(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        ctx.find_root().params["debug"] = True


def accept_debug_everywhere(command: click.Command) -> None:
    """Give every subcommand (nested ones too) a ``--debug`` that sets the root's."""
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            if not any(param.name == "debug" for param in sub.params):
                sub.params.append(
                    click.Option(
                        ["--debug"],
                        is_flag=True,
                        expose_value=False,
                        callback=_set_debug,
                        help="Show tracebacks for errors (as fleetc --debug).",
                    )
                )
            accept_debug_everywhere(sub)
