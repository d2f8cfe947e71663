"""The one JSON shape of a :class:`~fleetc.core.diagnostics.Diagnostic`, shared by every report that lists findings.

``fleetc validate --format json`` (``diagnostics[]``, report version 2) and ``fleetc diff|plan --format json``
(``policy[]`` and ``failures[].diagnostics[]``, report version 3) write a diagnostic as the same object::

    {"file": "fleet/clusters.yaml", "line": 12, "column": 5, "field": "spec.version",
     "severity": "error", "code": "version-down", "message": "version goes down …", "context": "cluster eu-1"}

``line`` and ``column`` are 1-based, 0 when unknown; ``field`` is the dotted field path ("" for a whole document);
``code`` names the rule ("" when the rule has no code); ``message`` is the finding without its context;
``context`` says which generated item or object it is about ("" when none). docs/ci.md documents it.

Callers: :mod:`fleetc.cli.reports` and :mod:`fleetc.plan.formats.json_report`.
"""

from __future__ import annotations

from typing import Any

from fleetc.core.diagnostics import Diagnostic, Severity

DIAGNOSTIC_KEYS = ("file", "line", "column", "field", "severity", "code", "message", "context")

DIAGNOSTIC_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "file": {"type": "string"},
        "line": {"type": "integer", "minimum": 0},
        "column": {"type": "integer", "minimum": 0},
        "field": {"type": "string"},
        "severity": {"enum": [s.value for s in Severity]},
        "code": {"type": "string"},
        "message": {"type": "string"},
        "context": {"type": "string"},
    },
    "required": list(DIAGNOSTIC_KEYS),
    "additionalProperties": False,
}
"""The JSON Schema (2020-12) of one diagnostic."""


def diagnostic_json(diagnostic: Diagnostic) -> dict[str, Any]:
    """A diagnostic as plain JSON data, keys in :data:`DIAGNOSTIC_KEYS` order."""
    return {
        "file": diagnostic.location.path,
        "line": diagnostic.location.line,
        "column": diagnostic.location.column,
        "field": diagnostic.field,
        "severity": diagnostic.severity.value,
        "code": diagnostic.code,
        "message": diagnostic.message,
        "context": diagnostic.context,
    }
