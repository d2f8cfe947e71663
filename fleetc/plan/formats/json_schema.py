"""The JSON Schema (2020-12) of the JSON diff or plan document :mod:`fleetc.plan.formats.json_report` writes.

Closed objects throughout, so a field the report adds without announcing it here fails the tests (the document's
stability rules are in :mod:`fleetc.plan.formats.json_report`). Callers: that module and the tests.
"""

from __future__ import annotations

from typing import Any

from fleetc.core.diagnostic_json import DIAGNOSTIC_SCHEMA
from fleetc.plan.diff import Op
from fleetc.plan.impact import Effect

JSON_VERSION = 3


def _closed(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": required if required is not None else list(properties),
        "additionalProperties": False,
    }


_STR = {"type": "string"}
_INT = {"type": "integer", "minimum": 0}
_BOOL = {"type": "boolean"}
_NULL_STR = {"type": ["string", "null"]}
_STRS = {"type": "array", "items": _STR}
_RANGE = _closed({"min": _INT, "max": _INT})
_FIELD = _closed({"path": _STR, "op": {"enum": [o.value for o in Op]}, "before": {}, "after": {}})
_FIELDS = {"type": "array", "items": _FIELD}
_DIAGNOSTIC = DIAGNOSTIC_SCHEMA
_DIAGNOSTICS = {"type": "array", "items": _DIAGNOSTIC}
_NULL_INT = {"type": ["integer", "null"], "minimum": 0}
_LIFECYCLE = _closed(
    {
        "now": _STR,
        "warnings": _DIAGNOSTICS,
        "rotations": {
            "type": "array",
            "items": _closed(
                {
                    "rotateAfter": _NULL_STR,
                    "nextDue": _NULL_STR,
                    "maxMachineAgeDays": _NULL_INT,
                    "certificatesExpiryDays": _NULL_INT,
                    "clusters": _STRS,
                }
            ),
        },
    }
)
_EFFECTS = [e.value for e in Effect]
_CLUSTER = _closed(
    {
        "name": _STR,
        "namespace": _STR,
        "wave": _NULL_STR,
        "effects": {"type": "array", "items": {"enum": _EFFECTS}, "minItems": 1},
        "destructive": _BOOL,
        "version": _NULL_STR,
        "class": _NULL_STR,
        "upgrade": {
            "oneOf": [
                {"type": "null"},
                _closed(
                    {
                        "from": _STR,
                        "to": _STR,
                        "controlPlaneSteps": _STRS,
                        "workerSteps": _STRS,
                        "refused": _NULL_STR,
                    }
                ),
            ]
        },
        "classRevision": {"oneOf": [{"type": "null"}, _closed({"from": _NULL_STR, "to": _NULL_STR})]},
        "machines": _closed(
            {
                "controlPlane": _INT,
                "workers": _RANGE,
                "controlPlaneReplaced": _INT,
                "workersReplaced": _RANGE,
                "workersDeleted": _RANGE,
            }
        ),
        "rollingPools": _STRS,
        "poolsRemoved": _STRS,
        "poolsAdded": _STRS,
        "scaling": _STRS,
        "notes": _STRS,
        "renamed": _NULL_STR,
        "source": _NULL_STR,
        "removal": _NULL_STR,
        "causes": {"type": "array", "items": _closed({"what": _STR, "file": _STR, "line": _INT, "field": _STR})},
    }
)
_TEMPLATE = _closed({"role": _STR, "kind": _STR, "op": {"enum": [o.value for o in Op]}, "fields": _FIELDS})
_REVISION = _closed(
    {
        "class": _STR,
        "from": _NULL_STR,
        "to": _NULL_STR,
        "clusters": _STRS,
        "rollsControlPlane": _BOOL,
        "rollingPools": _STRS,
        "poolsAdded": _STRS,
        "poolsRemoved": _STRS,
        "inPlace": _STRS,
        "templates": {"type": "array", "items": _TEMPLATE},
        "classFields": _FIELDS,
    }
)
_OBJECT = _closed(
    {
        "group": _STR,
        "kind": _STR,
        "namespace": _STR,
        "name": _STR,
        "op": {"enum": [o.value for o in Op]},
        "fields": _FIELDS,
    }
)
_WAVE = _closed(
    {
        "index": _INT,
        "name": _STR,
        "clusters": _STRS,
        "changing": _STRS,
        "deleted": _STRS,
        "orphaned": _STRS,
        "maxConcurrent": {"type": ["integer", "null"]},
        "soakSeconds": {"type": ["integer", "null"]},
        "controlPlaneDeadlineSeconds": {"type": ["integer", "null"]},
        "failureBudget": {"type": ["integer", "null"]},
        "batches": _INT,
    }
)
_SIDE = _closed({"label": _STR, "ok": _BOOL})
_COUNTS = {"type": "object", "additionalProperties": _INT}
_CONTENTS = _closed({"label": _STR, "clusters": _INT, "waves": _COUNTS, "versions": _COUNTS, "classes": _COUNTS})
_FAILURE = _closed(
    {"side": {"enum": ["base", "head"]}, "label": _STR, "stage": _STR, "message": _STR, "diagnostics": _DIAGNOSTICS}
)

_TOP_REQUIRED = (
    "version", "kind", "base", "head", "ok", "changed", "failures", "policy", "summary", "clusters", "revisions",
    "objects", "rollout",
)  # fmt: skip
"""Every top-level key but ``lifecycle``, which only ``plan`` writes."""

JSON_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "fleetc diff/plan report",
    **_closed(
        {
            "version": {"const": JSON_VERSION},
            "kind": {"enum": ["diff", "plan"]},
            "base": _SIDE,
            "head": _SIDE,
            "ok": _BOOL,
            "changed": _BOOL,
            "failures": {"type": "array", "items": _FAILURE},
            "policy": _DIAGNOSTICS,
            "summary": _closed(
                {
                    "clusters": _INT,
                    "changedClusters": _INT,
                    "byEffect": {"type": "object", "additionalProperties": _INT},
                    "wavesTouched": _STRS,
                    "objects": _closed({"added": _INT, "removed": _INT, "changed": _INT}),
                }
            ),
            "clusters": {"type": "array", "items": _CLUSTER},
            "revisions": {"type": "array", "items": _REVISION},
            "objects": {"type": "array", "items": _OBJECT},
            "headContents": {"oneOf": [{"type": "null"}, _CONTENTS]},
            "rollout": {
                "oneOf": [
                    {"type": "null"},
                    _closed({"waves": {"type": "array", "items": _WAVE}, "unassigned": _STRS}),
                ]
            },
            "lifecycle": {"oneOf": [{"type": "null"}, _LIFECYCLE]},
        },
        required=[*_TOP_REQUIRED],
    ),
}
"""The JSON Schema (2020-12) of the document :func:`fleetc.plan.formats.json_report.render` writes."""
