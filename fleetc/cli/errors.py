"""Exit codes and the one place that turns expected errors into a message and an exit code."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from fleetc.core.errors import FleetcError, SourceError

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_HALTED, EXIT_UNREACHABLE = 0, 1, 2, 3, 4
F = TypeVar("F", bound=Callable[..., Any])


def handle_errors(command: F) -> F:
    """Expected errors print one line and exit with their code; ``--debug`` shows the traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except FleetcError as exc:
            if click.get_current_context().find_root().params.get("debug"):
                raise
            click.echo(f"fleetc: error: {exc}", err=True)
            sys.exit(EXIT_USAGE if isinstance(exc, SourceError) else EXIT_FINDINGS)

    return wrapper  # type: ignore[return-value]
