"""Normalisation before comparing two objects: drop noise, mask secrets, key named lists.

What counts as noise: the provenance annotation (``fleetc.io/source`` moves whenever a line is added above a
cluster), ``kubectl`` bookkeeping, and server-managed fields (``status``, ``managedFields``, ``resourceVersion``…)
that a built tree may carry when it was exported from a cluster. Lists whose items all carry a unique ``name``
(or ``class``, ``key``, ``id``) become maps keyed ``[name=x]``, so an item is compared with its namesake and not
with whatever sits at the same index (as dyff does). Secret values are masked pairwise: the diff says a value
changed (``*** (before)`` → ``*** (after)``) without showing it.

Caller: :mod:`fleetc.plan.diff` (object changes) and :mod:`fleetc.plan.revisions` (template changes).
Pure functions; inputs are never modified.
"""

from __future__ import annotations

from typing import Any

from fleetc.core.keys import Manifest
from fleetc.render.names import SOURCE_ANNOTATION

NOISE_ANNOTATIONS = frozenset({SOURCE_ANNOTATION, "kubectl.kubernetes.io/last-applied-configuration"})
SERVER_METADATA = frozenset(
    {"managedFields", "resourceVersion", "uid", "generation", "creationTimestamp", "selfLink", "ownerReferences"}
)
IDENTIFIERS = ("name", "class", "key", "id")
"""Fields that identify a list item, tried in order (dyff's ``name``/``key``/``id``, plus CAPI's ``class``)."""
SECRET_FIELDS = ("data", "stringData")
MASK = "***"


def strip_noise(manifest: Manifest) -> Manifest:
    """The object without provenance annotations, server-managed metadata and ``status``."""
    out = {k: v for k, v in manifest.items() if k != "status"}
    metadata = manifest.get("metadata")
    if isinstance(metadata, dict):
        meta = {k: v for k, v in metadata.items() if k not in SERVER_METADATA}
        annotations = metadata.get("annotations")
        if isinstance(annotations, dict):
            kept = {k: v for k, v in annotations.items() if k not in NOISE_ANNOTATIONS}
            if kept:
                meta["annotations"] = kept
            else:
                meta.pop("annotations", None)
        out["metadata"] = meta
    return out


def _identifier(items: list[Any]) -> str | None:
    if not items or not all(isinstance(item, dict) for item in items):
        return None
    for field in IDENTIFIERS:
        values = [item.get(field) for item in items]
        if all(isinstance(v, str | int) and not isinstance(v, bool) for v in values) and len(set(values)) == len(
            values
        ):
            return field
    return None


def keyed(value: Any) -> Any:
    """``value`` with every list of uniquely named maps turned into a map keyed ``[name=x]``."""
    if isinstance(value, dict):
        return {k: keyed(v) for k, v in value.items()}
    if isinstance(value, list):
        field = _identifier(value)
        if field is None:
            return [keyed(item) for item in value]
        return {f"[{field}={item[field]}]": keyed(item) for item in value}
    return value


def _is_secret(manifest: Manifest | None) -> bool:
    return manifest is not None and manifest.get("kind") == "Secret" and manifest.get("apiVersion") == "v1"


def _masked_values(mine: Any, other: Any, suffix: str) -> Any:
    if not isinstance(mine, dict):
        return MASK if mine is not None else None
    theirs = other if isinstance(other, dict) else {}
    return {k: MASK if k in theirs and theirs[k] == v else f"{MASK} ({suffix})" for k, v in mine.items()}


def mask_secrets(before: Manifest | None, after: Manifest | None) -> tuple[Manifest | None, Manifest | None]:
    """Secret values replaced by ``***``; a value that differs shows as ``*** (before)`` / ``*** (after)``."""
    if not (_is_secret(before) or _is_secret(after)):
        return before, after
    masked_before, masked_after = before, after
    if before is not None:
        masked_before = {**before}
        for field in SECRET_FIELDS:
            if field in before:
                other = (after or {}).get(field)
                masked_before[field] = _masked_values(before[field], other, "before")
    if after is not None:
        masked_after = {**after}
        for field in SECRET_FIELDS:
            if field in after:
                other = (before or {}).get(field)
                masked_after[field] = _masked_values(after[field], other, "after")
    return masked_before, masked_after


def masked(manifest: Manifest) -> Manifest:
    """One object with its Secret values masked (for showing an added or removed object)."""
    if not _is_secret(manifest):
        return manifest
    out = {**manifest}
    for field in SECRET_FIELDS:
        if field in manifest:
            out[field] = _masked_values(manifest[field], None, "")
            if isinstance(out[field], dict):
                out[field] = dict.fromkeys(out[field], MASK)
    return out
