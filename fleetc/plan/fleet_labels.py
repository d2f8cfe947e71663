"""fleetc's own marks on the objects it renders, read back by the diff: wave, fleet class, source line, decommission.

CAPI's fields (``spec.topology``, ClusterClass ``kubernetesVersions``…) are read through
:mod:`fleetc.contract.topology`; this module reads only the labels and annotation fleetc adds
(:mod:`fleetc.render.names`). Callers: :mod:`fleetc.plan.impact` and :mod:`fleetc.plan.locate`.
"""

from __future__ import annotations

from typing import Any

from fleetc.contract.objects import labels
from fleetc.core.keys import Manifest
from fleetc.render.flux import PRUNE_ANNOTATION
from fleetc.render.names import CLASS_LABEL, DECOMMISSION_ANNOTATION, SOURCE_ANNOTATION, WAVE_LABEL

__all__ = ["DECOMMISSION_ANNOTATION", "PRUNE_ANNOTATION", "decommission", "fleet_class", "source", "wave"]


def wave(manifest: Manifest) -> str | None:
    """The rollout wave fleetc put the object in (its ``fleetc.io/wave`` label)."""
    return labels(manifest).get(WAVE_LABEL)


def fleet_class(manifest: Manifest) -> str | None:
    """The fleet class a Cluster was compiled from (its ``fleetc.io/class`` label)."""
    return labels(manifest).get(CLASS_LABEL)


def _annotations(manifest: Manifest) -> dict[str, Any]:
    metadata = manifest.get("metadata")
    annotations: Any = metadata.get("annotations") if isinstance(metadata, dict) else None
    return annotations if isinstance(annotations, dict) else {}


def decommission(manifest: Manifest) -> bool:
    """True when the Cluster is marked for decommissioning (``fleetc.io/decommission: "true"``)."""
    return _annotations(manifest).get(DECOMMISSION_ANNOTATION) == "true"


def source(manifest: Manifest) -> str | None:
    """The spec file and line an object came from (``clusters/eu.yaml:12``), when fleetc recorded it."""
    metadata = manifest.get("metadata")
    annotations: Any = metadata.get("annotations") if isinstance(metadata, dict) else None
    value = annotations.get(SOURCE_ANNOTATION) if isinstance(annotations, dict) else None
    return value if isinstance(value, str) else None
