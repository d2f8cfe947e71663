"""The one place that turns an expected error into a message and an exit code.

The exit code comes from the error's class (:attr:`fleetc.core.errors.FleetcError.exit_code`); the tree of
classes and their codes is drawn in :mod:`fleetc.core.errors`. Commands that end without an error exit with an
:class:`~fleetc.core.errors.ExitCode` themselves (findings, a halted rollout).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from fleetc.core.errors import FleetcError
from fleetc.core.redact import printable, redact

F = TypeVar("F", bound=Callable[..., Any])
INTERRUPTED = 130
"""Exit code after Ctrl-C (SIGINT), as shells report a process killed by it (128 + 2)."""


def handle_errors(command: F) -> F:
    """Expected errors print one line and exit with their class's code; ``--debug`` shows the traceback.

    The line is escaped and secrets are left out (:mod:`fleetc.core.redact`): messages carry paths and values
    from untrusted input. Ctrl-C exits :data:`INTERRUPTED` (130) with one line instead of click's ``Aborted!``
    and exit 1."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except FleetcError as exc:
            if click.get_current_context().find_root().params.get("debug"):
                raise
            click.echo(f"fleetc: error: {printable(redact(str(exc)))}", err=True)
            sys.exit(int(exc.exit_code))
        except KeyboardInterrupt:
            if click.get_current_context().find_root().params.get("debug"):
                raise
            click.echo("\nfleetc: interrupted", err=True)
            sys.exit(INTERRUPTED)

    return wrapper  # type: ignore[return-value]
