"""The base of every spec model: strict, frozen, camelCase in YAML, unknown fields are errors."""

from __future__ import annotations

from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from fleetc.schema.types import Labels, Name

API_VERSION: Final = "fleetc.io/v1alpha1"


class SpecModel(BaseModel):
    """Strict and frozen: no coercion of YAML 1.1 surprises (``no`` → False), unknown keys rejected."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        strict=True,
        alias_generator=to_camel,
        validate_default=False,
    )


class Addon(SpecModel):
    """Manifests every cluster of a class or provider gets (a CNI, a cloud controller manager, team manifests).

    Compiled into a CAPI ClusterResourceSet with a ConfigMap holding the files; CAPI applies them to each
    selected workload cluster once its API server is up.
    """

    name: Name
    files: list[str] = Field(
        min_length=1,
        description="YAML files under the fleet root (list them in the Fleet's exclude: they are not fleet documents).",
    )
    strategy: Literal["ApplyOnce", "Reconcile"] = Field(
        default="Reconcile", description="Reconcile re-applies changed files; ApplyOnce applies them once."
    )


class ObjectMeta(SpecModel):
    """Name, labels and annotations of a fleet document."""

    name: Name = Field(description="The document's name; a DNS-1123 label.")
    labels: Labels = Field(default_factory=dict, description="Labels; rollout waves select clusters by them.")
    annotations: dict[str, str] = Field(default_factory=dict, description="Free-form annotations.")
