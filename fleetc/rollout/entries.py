"""The current state of a rollout's clusters: stored ClusterRollouts as typed, read-only views.

A :class:`ClusterEntry` wraps a stored ClusterRollout without copying it (the informer cache makes one for every
change it sees, so reading must stay cheap): spec and status (shaped as
:class:`~fleetc.rollout.model.ClusterRolloutSpec` and :class:`~fleetc.rollout.model.ClusterRolloutStatus`) are read
field by field; a status about another revision reads as pending. :func:`timeline_of` merges a rollout's timeline
with its clusters' events.
Callers: :mod:`fleetc.rollout.cache`, the controller, :mod:`fleetc.rollout.control`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from fleetc.contract.timestamps import parse_timestamp
from fleetc.core.keys import Manifest, ObjectKey
from fleetc.rollout.model import ClusterState, Event, RolloutStatus


@dataclass(frozen=True)
class ClusterEntry:
    """A stored ClusterRollout, typed. Its state is ``Pending`` until its status is about the current revision."""

    manifest: Manifest

    @property
    def key(self) -> ObjectKey:
        """The ClusterRollout's key."""
        return ObjectKey.of(self.manifest)

    @property
    def spec(self) -> Manifest:
        """The raw spec."""
        spec: Manifest = self.manifest["spec"]
        return spec

    @property
    def status(self) -> Manifest:
        """The raw status (empty when the status is about another revision)."""
        status: Manifest = self.manifest.get("status") or {}
        return status if status.get("revision") == self.spec["revision"] else {}

    @property
    def name(self) -> str:
        """The workload cluster's name."""
        return str(self.spec["cluster"]["name"])

    @property
    def namespace(self) -> str:
        """The workload cluster's namespace."""
        return str(self.spec["cluster"]["namespace"])

    @property
    def rollout(self) -> str:
        """The FleetRollout's name."""
        return str(self.spec["rollout"])

    @property
    def wave(self) -> str:
        """The wave the cluster belongs to."""
        return str(self.spec["wave"])

    @property
    def order(self) -> int:
        """Its position in the wave."""
        return int(self.spec["order"])

    @property
    def version(self) -> str:
        """The target Kubernetes version."""
        return str(self.spec["target"]["version"])

    @property
    def class_ref(self) -> str | None:
        """The target class revision."""
        value = self.spec["target"].get("classRef")
        return str(value) if value is not None else None

    @property
    def worker_remediations(self) -> int | None:
        """The target's worker remediation budget (None: the default)."""
        value = self.spec["target"].get("workerRemediations")
        return int(value) if value is not None else None

    @property
    def preexisting(self) -> frozenset[str]:
        """The Machines that existed when the current attempt started."""
        return frozenset(self.status.get("preexistingMachines", ()))

    @property
    def state(self) -> ClusterState:
        """Its state in the current revision."""
        return ClusterState(self.status.get("state", ClusterState.PENDING))

    @property
    def started_at(self) -> float | None:
        """When the current attempt started."""
        value = self.status.get("startedAt")
        return parse_timestamp(value) if value else None

    @property
    def control_plane_healthy(self) -> bool:
        """Whether the control plane has been seen healthy in the current attempt."""
        return bool(self.status.get("controlPlaneHealthyAt"))

    @property
    def attempts(self) -> int:
        """How many times the cluster was started in this revision."""
        return int(self.status.get("attempts", 0))

    @property
    def reason(self) -> str:
        """Why it failed (empty otherwise)."""
        return str(self.status.get("reason", ""))

    @property
    def events(self) -> list[Event]:
        """Its events in this revision."""
        return [Event.model_validate(e) for e in self.status.get("events", [])]

    def cluster_object(self) -> Manifest:
        """The desired CAPI Cluster."""
        cluster: Manifest = self.spec["objects"][-1]
        return cluster


def timeline_of(rollout: Manifest, clusters: Iterable[ClusterEntry]) -> list[Event]:
    """The rollout's events and its clusters' events of the current revision, in order."""
    events = list(RolloutStatus.model_validate(rollout.get("status") or {}).timeline)
    for entry in clusters:
        events.extend(entry.events)
    return sorted(events, key=lambda e: (e.seq, e.time, e.type, e.cluster))
