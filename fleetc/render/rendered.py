"""The compiler's output: every object keyed by identity, the folder it is written to, and the waves."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from fleetc.core.keys import Manifest, ObjectKey
from fleetc.schema.fleet import Wave
from fleetc.schema.notifications import NotificationPolicy
from fleetc.schema.windows import MaintenanceWindow


@dataclass(frozen=True)
class RenderedObject:
    """One object and the output folder it belongs to (``classes/<revision>``, ``clusters/<name>``…)."""

    manifest: Manifest
    folder: str


@dataclass(frozen=True)
class WaveClusters:
    """A rollout wave and its clusters, in rollout order (by name)."""

    wave: Wave
    clusters: tuple[str, ...]
    namespaces: Mapping[str, str]
    windows: Mapping[str, MaintenanceWindow] = field(default_factory=dict)
    """Each cluster's maintenance window (by label, else the wave's); clusters without one are left out."""


@dataclass(frozen=True)
class RenderedSet:
    """Everything compiled from one fleet revision."""

    fleet: str
    namespace: str
    objects: Mapping[ObjectKey, RenderedObject]
    waves: tuple[WaveClusters, ...]
    notifications: NotificationPolicy | None = None
    """The fleet's notification receivers (``spec.notifications``), carried to the rollout."""

    def __iter__(self) -> Iterator[ObjectKey]:
        return iter(sorted(self.objects))

    def __len__(self) -> int:
        return len(self.objects)

    def manifests(self) -> Iterator[Manifest]:
        """Every manifest, sorted by identity."""
        for key in sorted(self.objects):
            yield self.objects[key].manifest
