"""``-o``/``--output``: how a command prints its report (text for people; JSON or YAML for tools).

Every command that reports takes ``-o text|json|yaml`` (kubectl's habit); commands that had ``--format`` keep it as
a second name of the same option. JSON and YAML carry the same document: a mapping whose ``kind`` names the
report and whose ``version`` is the version of that report's shape (``docs/output.md``). Callers: the command
modules of :mod:`fleetc.cli`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

import click
import yaml

from fleetc.core.diagnostics import Diagnostic, Severity

F = TypeVar("F", bound=Callable[..., Any])

FORMATS = ("text", "json", "yaml")
"""The formats of every report; some commands add their own (``validate``: ``github``)."""


def output_option(*extra: str, formats: tuple[str, ...] = FORMATS, default: str = "text") -> Callable[[F], F]:
    """The ``-o``/``--output`` option (also ``--format`` when the command had it), stored as ``output``."""
    names = ("-o", "--output", *extra)
    return click.option(
        *names,
        "output",
        type=click.Choice(formats),
        default=default,
        show_default=True,
        help="Output format: text for people; json and yaml carry the same versioned document (docs/output.md).",
    )


def show_warnings(diagnostics: Iterable[Diagnostic]) -> None:
    """Print the warnings of a fleet a command acts on (it is valid, or the command would have stopped) to stderr,
    one per line as ``fleetc validate`` prints them: a build or a rollout still goes ahead, and stdout stays the
    command's own report."""
    for diagnostic in diagnostics:
        if diagnostic.severity is Severity.WARNING:
            click.echo(str(diagnostic), err=True)


def machine(output: str) -> bool:
    """True for the formats read by tools (JSON, YAML): nothing else may be printed on stdout."""
    return output in ("json", "yaml")


def dump(payload: Mapping[str, Any], output: str, *, sort_keys: bool = False) -> str:
    """The report as JSON (indented) or YAML (the same document)."""
    if output == "yaml":
        return yaml.safe_dump(dict(payload), sort_keys=sort_keys, allow_unicode=True, default_flow_style=False).rstrip()
    return json.dumps(payload, indent=2, sort_keys=sort_keys)


def emit(payload: Mapping[str, Any], output: str, *, sort_keys: bool = False) -> None:
    """Print the report in a machine format."""
    click.echo(dump(payload, output, sort_keys=sort_keys))
