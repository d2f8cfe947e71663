"""The base of every spec model: strict, frozen, camelCase in YAML, unknown fields are errors."""

from __future__ import annotations

from typing import Final

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


class ObjectMeta(SpecModel):
    """Name, labels and annotations of a fleet document."""

    name: Name = Field(description="The document's name; a DNS-1123 label.")
    labels: Labels = Field(default_factory=dict, description="Labels; rollout waves select clusters by them.")
    annotations: dict[str, str] = Field(default_factory=dict, description="Free-form annotations.")
