"""Diagnostics: what validation reports, each pointing at a file, line, column and field.

Validation never raises on the first problem; every stage returns ``list[Diagnostic]`` (as CAPI returns a
``field.ErrorList``) and the CLI renders them all at once in text, JSON or GitHub-annotation form.

Fleet files come from people the platform team does not control, so what a diagnostic echoes is made safe
where it is built: control characters, line breaks and terminal escapes in paths, fields and messages are
shown as escapes (a key cannot forge a second ``file:line:col:`` line or recolour the terminal), and values
that look like secrets are never repeated (:mod:`fleetc.core.redact`).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field as dataclass_field

from fleetc.core.redact import printable, redact

FieldPath = tuple[str | int, ...]


class Severity(enum.StrEnum):
    """How bad a finding is: errors fail validation, warnings do not."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class SourceLocation:
    """A position in a source file; ``line`` and ``column`` are 1-based, 0 means "unknown"."""

    path: str
    line: int = 0
    column: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", printable(self.path))

    def __str__(self) -> str:
        if self.line <= 0:
            return self.path
        return f"{self.path}:{self.line}:{max(self.column, 1)}"


def format_field_path(path: FieldPath) -> str:
    """Render ``("spec", "workers", 0, "name")`` as ``spec.workers[0].name``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif out:
            out += f".{part}"
        else:
            out = part
    return out


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One finding: where it is, which field, what is wrong, and optionally a hint for fixing it."""

    location: SourceLocation
    field: str
    message: str
    severity: Severity = Severity.ERROR
    code: str = dataclass_field(default="", compare=False)
    context: str = ""
    """Which generated item the finding is about (e.g. ``ClusterSet stores: store=0101``)."""

    def __post_init__(self) -> None:
        field = printable(self.field)
        object.__setattr__(self, "field", field)
        object.__setattr__(self, "message", printable(redact(self.message)))
        object.__setattr__(self, "context", printable(redact(self.context)))

    @property
    def text(self) -> str:
        """The message with its context."""
        return f"{self.message} [{self.context}]" if self.context else self.message

    def __str__(self) -> str:
        field_part = f" {self.field}:" if self.field else ""
        prefix = "" if self.severity is Severity.ERROR else f" {self.severity.value}:"
        return f"{self.location}:{prefix}{field_part} {self.text}"


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    """True when any diagnostic is an error (warnings alone pass)."""
    return any(d.severity is Severity.ERROR for d in diagnostics)


def sorted_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Order diagnostics by file, line and column, dropping exact duplicates."""
    return sorted(set(diagnostics))
