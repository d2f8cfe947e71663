"""fleetc's own marks on the objects it renders, read back by the diff: wave, fleet class and source line.

CAPI's fields (``spec.topology``, ClusterClass ``kubernetesVersions``…) are read through
:mod:`fleetc.contract.topology`; this module reads only the labels and annotation fleetc adds
(:mod:`fleetc.render.names`). Callers: :mod:`fleetc.plan.impact` and :mod:`fleetc.plan.locate`.
"""

from __future__ import annotations

from typing import Any

from fleetc.contract.objects import labels
from fleetc.core.keys import Manifest
from fleetc.render.names import CLASS_LABEL, SOURCE_ANNOTATION, WAVE_LABEL


def wave(manifest: Manifest) -> str | None:
    """The rollout wave fleetc put the object in (its ``fleetc.io/wave`` label)."""
    return labels(manifest).get(WAVE_LABEL)


def fleet_class(manifest: Manifest) -> str | None:
    """The fleet class a Cluster was compiled from (its ``fleetc.io/class`` label)."""
    return labels(manifest).get(CLASS_LABEL)


def source(manifest: Manifest) -> str | None:
    """The spec file and line an object came from (``clusters/eu.yaml:12``), when fleetc recorded it."""
    metadata = manifest.get("metadata")
    annotations: Any = metadata.get("annotations") if isinstance(metadata, dict) else None
    value = annotations.get(SOURCE_ANNOTATION) if isinstance(annotations, dict) else None
    return value if isinstance(value, str) else None
