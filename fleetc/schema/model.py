"""The validated fleet: every document by kind and name, each with its origin, plus resolution helpers.

This is what later stages (compile, diff, rollout) consume. It answers questions that span documents —
which version a cluster runs, which wave it is in, the effective shape after overrides — in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from fleetc.load.origins import Origin
from fleetc.schema import rotation
from fleetc.schema.cluster import ClusterDocument
from fleetc.schema.cluster_class import ClusterClassDocument
from fleetc.schema.fleet import FleetDocument, Wave
from fleetc.schema.provider import ProviderDocument
from fleetc.schema.rotation import Rotation

T = TypeVar("T")


@dataclass(frozen=True)
class Entry(Generic[T]):
    """A document and where it was written."""

    document: T
    origin: Origin


@dataclass(frozen=True)
class Fleet:
    """The whole fleet, valid document by document (cross-document rules are checked separately)."""

    root: str
    settings: Entry[FleetDocument]
    classes: Mapping[str, Entry[ClusterClassDocument]]
    providers: Mapping[str, Entry[ProviderDocument]]
    clusters: Mapping[str, Entry[ClusterDocument]]
    addon_files: Mapping[str, str] = field(default_factory=dict)
    """Text of every add-on file the classes and providers name, by path under the fleet root."""

    @property
    def name(self) -> str:
        """The fleet's name."""
        return self.settings.document.metadata.name

    def channel_of(self, cluster: ClusterDocument) -> str | None:
        """The channel a cluster follows (its own or the fleet default), None when it pins a version."""
        if cluster.spec.version is not None:
            return None
        return cluster.spec.channel or self.settings.document.spec.defaults.channel

    def version_of(self, cluster: ClusterDocument) -> str | None:
        """The Kubernetes version a cluster runs, resolving its channel; None when unresolvable."""
        if cluster.spec.version is not None:
            return cluster.spec.version
        channel = self.channel_of(cluster)
        return self.settings.document.spec.versions.channels.get(channel) if channel else None

    def labels_of(self, cluster: ClusterDocument) -> dict[str, str]:
        """The cluster's labels over the fleet default labels."""
        return {**self.settings.document.spec.defaults.labels, **cluster.metadata.labels}

    def waves_of(self, cluster: ClusterDocument) -> list[Wave]:
        """Every wave whose selector matches the cluster (a valid fleet has exactly one)."""
        labels = self.labels_of(cluster)
        return [w for w in self.settings.document.spec.rollout.waves if w.selector.matches(labels)]

    def wave_of(self, cluster: ClusterDocument) -> Wave | None:
        """The cluster's wave, when exactly one matches."""
        waves = self.waves_of(cluster)
        return waves[0] if len(waves) == 1 else None

    def rotation_of(self, cluster: ClusterDocument) -> Rotation:
        """The cluster's machine rotation policy: its class's over the fleet's (:mod:`fleetc.schema.rotation`)."""
        cluster_class = self.classes.get(cluster.spec.class_)
        class_policy = cluster_class.document.spec.machine_rotation if cluster_class else None
        return rotation.effective(self.settings.document.spec.machine_rotation, class_policy)

    def namespace_of(self, cluster: ClusterDocument) -> str:
        """The management namespace the cluster's CAPI objects live in."""
        return cluster.spec.namespace or self.settings.document.spec.namespace
