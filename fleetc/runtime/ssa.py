"""Server-side apply as the API server does it, for stores that have no API server behind them.

Field ownership is ``metadata.managedFields`` in FieldsV1 form: an apply owns exactly the fields it sends, and a
field it no longer sends is removed when no other manager owns it. Caller: :class:`fleetc.runtime.memory.MemoryStore`.
"""

from __future__ import annotations

from typing import Any

from fleetc.core.keys import Manifest
from fleetc.runtime.store import copy

_IDENTITY = ("apiVersion", "kind")
FieldsV1 = dict[str, Any]
"""Field ownership as Kubernetes records it (``managedFields[].fieldsV1``)."""


def server_side_apply(current: Manifest, applied: Manifest, field_manager: str) -> Manifest:
    """``applied`` applied over ``current`` by ``field_manager``: the manager owns exactly the fields it applied
    (recorded in ``metadata.managedFields`` as FieldsV1, as Kubernetes does); fields it applied before but not now are
    removed; fields other managers set are kept. Lists are replaced whole (atomic); ``status`` is ignored."""
    result: Manifest = copy(current)
    entries = result["metadata"].get("managedFields", [])
    previous: FieldsV1 = next((e.get("fieldsV1", {}) for e in entries if e.get("manager") == field_manager), {})
    _remove_fields(result, previous, _owned(applied))
    _merge_into(result, {k: v for k, v in applied.items() if k not in ("metadata", "status")})
    metadata = {k: v for k, v in applied["metadata"].items() if k not in ("managedFields", "resourceVersion")}
    _merge_into(result.setdefault("metadata", {}), metadata)
    others = [e for e in entries if e.get("manager") != field_manager]
    result["metadata"]["managedFields"] = [*others, apply_entry(field_manager, applied)]
    return result


def fields_of(value: Any) -> FieldsV1:
    """The FieldsV1 set of an applied configuration (maps are walked, lists and scalars are leaves)."""
    if not isinstance(value, dict) or not value:
        return {}
    return {f"f:{k}": fields_of(v) for k, v in value.items()}


def _owned(manifest: Manifest) -> FieldsV1:
    trimmed = {k: v for k, v in manifest.items() if k not in _IDENTITY}
    metadata = {k: v for k, v in trimmed.get("metadata", {}).items() if k not in ("name", "namespace", "managedFields")}
    return fields_of({**trimmed, "metadata": metadata})


def apply_entry(field_manager: str, manifest: Manifest) -> Manifest:
    return {
        "apiVersion": manifest["apiVersion"],
        "fieldsType": "FieldsV1",
        "fieldsV1": _owned(manifest),
        "manager": field_manager,
        "operation": "Apply",
    }


def _remove_fields(target: dict[str, Any], before: FieldsV1, now: FieldsV1) -> None:
    """Remove fields the manager owned before and no longer applies."""
    for field, children in before.items():
        name = field.removeprefix("f:")
        if name not in target:
            continue
        if field not in now:
            del target[name]
        elif children and isinstance(target[name], dict):
            _remove_fields(target[name], children, now[field])


def _merge_into(target: dict[str, Any], patch: dict[str, Any]) -> None:
    for name, value in patch.items():
        if isinstance(value, dict) and isinstance(target.get(name), dict):
            _merge_into(target[name], value)
        else:
            target[name] = copy(value)
