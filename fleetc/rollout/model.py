"""The rollout objects in the store and typed views of them: ``FleetRollout``, ``ClusterRollout``, ``FleetRevision``.

A rollout is state in the store (group ``fleetc.io``, version ``v1alpha1``), so an interrupted run resumes where it
stopped. It is split over three kinds because one object per fleet holding every cluster's manifest and state would
outgrow what Kubernetes stores in one object (etcd's 1.5 MiB) and make every status write copy the whole fleet:

- ``FleetRollout`` (one per fleet, named after it): ``spec`` = desired revision id, ``paused``, the waves (name, size,
  ``maxConcurrent`` and ``failureBudget`` resolved against the wave size, ``soakSeconds``,
  ``controlPlaneDeadlineSeconds``); ``status`` = phase, current wave, per-wave counts, halt reason, timeline.
- ``ClusterRollout`` (one per cluster, ``<fleet>-<cluster>``, owned by the FleetRollout): ``spec`` = its wave and
  position, the target (version, class revision) and the desired objects (the CAPI ``Cluster`` last);
  ``status`` = ``Pending`` / ``InFlight`` (``startedAt``) / ``Succeeded`` / ``Failed`` (``reason``) and its events.
- ``FleetRevision`` (one per fleet): the objects applied before any cluster: namespaces and class revisions.

Callers: :mod:`fleetc.rollout.control` (builds and submits them), the controller (reads and writes
status), the CLI (displays the typed views).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from fleetc.contract.objects import is_capi_cluster
from fleetc.contract.timestamps import parse_timestamp
from fleetc.core.keys import Manifest, ObjectKey
from fleetc.render.names import WAVE_LABEL
from fleetc.render.rendered import RenderedSet

GROUP = "fleetc.io"
API_VERSION = f"{GROUP}/v1alpha1"
FLEET_ROLLOUT = "FleetRollout"
CLUSTER_ROLLOUT = "ClusterRollout"
FLEET_REVISION = "FleetRevision"
ROLLOUT_LABEL = f"{GROUP}/rollout"
RETRY_ANNOTATION = f"{GROUP}/retry"
"""Set to a new value to resume a halted rollout: the failed clusters of the current wave are retried."""
_FIRST_KINDS = ("Namespace",)
_LAST_KINDS = ("ClusterClass",)


class Phase(StrEnum):
    """Where a rollout is."""

    PROGRESSING = "Progressing"
    SOAKING = "Soaking"
    HALTED = "Halted"
    PAUSED = "Paused"
    COMPLETE = "Complete"


class ClusterState(StrEnum):
    """Where one cluster of a rollout is."""

    PENDING = "Pending"
    IN_FLIGHT = "InFlight"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"


# --- the plan: what the CLI builds from a compiled fleet -------------------------------------------------------------


@dataclass(frozen=True)
class WaveSpec:
    """One wave with its amounts resolved against its size."""

    name: str
    size: int
    max_concurrent: int
    soak_seconds: int
    control_plane_deadline_seconds: int
    failure_budget: int

    def to_dict(self) -> Manifest:
        """The wave as it sits in ``FleetRollout.spec.waves``."""
        return {
            "name": self.name,
            "size": self.size,
            "maxConcurrent": self.max_concurrent,
            "soakSeconds": self.soak_seconds,
            "controlPlaneDeadlineSeconds": self.control_plane_deadline_seconds,
            "failureBudget": self.failure_budget,
        }

    @classmethod
    def of(cls, data: Manifest) -> WaveSpec:
        """The inverse of :meth:`to_dict`."""
        return cls(
            name=data["name"],
            size=int(data["size"]),
            max_concurrent=int(data["maxConcurrent"]),
            soak_seconds=int(data["soakSeconds"]),
            control_plane_deadline_seconds=int(data["controlPlaneDeadlineSeconds"]),
            failure_budget=int(data["failureBudget"]),
        )


@dataclass(frozen=True)
class ClusterPlan:
    """One cluster of a rollout: where it sits and what to apply."""

    name: str
    namespace: str
    wave: str
    order: int
    version: str
    class_ref: str | None
    objects: tuple[Manifest, ...]
    """The desired objects of the cluster, the CAPI ``Cluster`` last."""


@dataclass(frozen=True)
class RolloutPlan:
    """Everything a rollout of one compiled revision needs; :func:`rollout_objects` turns it into store objects."""

    fleet: str
    namespace: str
    revision: str
    waves: tuple[WaveSpec, ...]
    clusters: tuple[ClusterPlan, ...]
    prerequisites: tuple[Manifest, ...]
    """Namespaces and class revisions, in apply order."""

    @property
    def key(self) -> ObjectKey:
        """The FleetRollout's key."""
        return rollout_key(self.fleet, self.namespace)


def rollout_key(fleet: str, namespace: str) -> ObjectKey:
    """The key of a fleet's FleetRollout."""
    return ObjectKey(GROUP, FLEET_ROLLOUT, namespace, fleet)


def cluster_rollout_name(fleet: str, cluster: str) -> str:
    """``<fleet>-<cluster>``: the name of a cluster's ClusterRollout."""
    return f"{fleet}-{cluster}"


def revision_id(rendered: RenderedSet) -> str:
    """A content hash of every rendered object: equal renders give equal revisions."""
    canonical = json.dumps(list(rendered.manifests()), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def plan_rollout(rendered: RenderedSet, *, revision: str | None = None) -> RolloutPlan:
    """The rollout of a compiled revision (its waves come from the fleet's rollout policy, in order)."""
    per_cluster: dict[str, list[Manifest]] = {}
    prerequisites: list[tuple[int, ObjectKey, Manifest]] = []
    for key in rendered:
        item = rendered.objects[key]
        folder, _, cluster = item.folder.partition("/")
        if folder == "clusters" and cluster:
            per_cluster.setdefault(cluster, []).append(item.manifest)
        else:
            prerequisites.append((_apply_rank(key.kind), key, item.manifest))
    waves, clusters = [], []
    for wave in rendered.waves:
        size = len(wave.clusters)
        spec = wave.wave
        waves.append(
            WaveSpec(
                name=spec.name,
                size=size,
                max_concurrent=spec.max_concurrent.of(size, at_least=1),
                soak_seconds=int(spec.soak),
                control_plane_deadline_seconds=int(spec.control_plane_deadline),
                failure_budget=spec.failure_budget.of(size),
            )
        )
        for order, name in enumerate(wave.clusters):
            clusters.append(_cluster_plan(name, spec.name, order, per_cluster.get(name, [])))
    return RolloutPlan(
        fleet=rendered.fleet,
        namespace=rendered.namespace,
        revision=revision or revision_id(rendered),
        waves=tuple(waves),
        clusters=tuple(clusters),
        prerequisites=tuple(manifest for _, _, manifest in sorted(prerequisites, key=lambda t: (t[0], t[1]))),
    )


def _apply_rank(kind: str) -> int:
    return 0 if kind in _FIRST_KINDS else 2 if kind in _LAST_KINDS else 1


def _cluster_plan(name: str, wave: str, order: int, objects: list[Manifest]) -> ClusterPlan:
    capi = [m for m in objects if is_capi_cluster(m)]
    if len(capi) != 1:
        raise ValueError(f"cluster {name}: expected one CAPI Cluster object, found {len(capi)}")
    cluster = capi[0]
    topology = cluster["spec"]["topology"]
    others = [m for m in objects if m is not cluster]
    return ClusterPlan(
        name=name,
        namespace=cluster["metadata"].get("namespace", ""),
        wave=wave,
        order=order,
        version=topology["version"],
        class_ref=topology.get("classRef", {}).get("name"),
        objects=(*others, cluster),
    )


def rollout_objects(plan: RolloutPlan, owner_uid: str | None = None) -> tuple[Manifest, Manifest, list[Manifest]]:
    """The FleetRollout, the FleetRevision and the ClusterRollouts of a plan (owned by ``owner_uid`` when given)."""
    labels = {ROLLOUT_LABEL: plan.fleet}
    rollout = {
        "apiVersion": API_VERSION,
        "kind": FLEET_ROLLOUT,
        "metadata": {"name": plan.fleet, "namespace": plan.namespace, "labels": dict(labels)},
        "spec": {"revision": plan.revision, "paused": False, "waves": [w.to_dict() for w in plan.waves]},
    }
    revision = {
        "apiVersion": API_VERSION,
        "kind": FLEET_REVISION,
        "metadata": {"name": plan.fleet, "namespace": plan.namespace, "labels": dict(labels)},
        "spec": {"revision": plan.revision, "objects": [dict(m) for m in plan.prerequisites]},
    }
    owners = []
    if owner_uid is not None:
        owners = [
            {"apiVersion": API_VERSION, "kind": FLEET_ROLLOUT, "name": plan.fleet, "uid": owner_uid, "controller": True}
        ]
    clusters = [_cluster_rollout(plan, cluster, labels, owners) for cluster in plan.clusters]
    return rollout, revision, clusters


def _cluster_rollout(plan: RolloutPlan, cluster: ClusterPlan, labels: dict[str, str], owners: list[Any]) -> Manifest:
    target: Manifest = {"version": cluster.version}
    if cluster.class_ref is not None:
        target["classRef"] = cluster.class_ref
    metadata: Manifest = {
        "name": cluster_rollout_name(plan.fleet, cluster.name),
        "namespace": plan.namespace,
        "labels": {**labels, WAVE_LABEL: cluster.wave},
    }
    if owners:
        metadata["ownerReferences"] = [dict(o) for o in owners]
    return {
        "apiVersion": API_VERSION,
        "kind": CLUSTER_ROLLOUT,
        "metadata": metadata,
        "spec": {
            "rollout": plan.fleet,
            "revision": plan.revision,
            "wave": cluster.wave,
            "order": cluster.order,
            "cluster": {"name": cluster.name, "namespace": cluster.namespace},
            "target": target,
            "objects": [dict(m) for m in cluster.objects],
        },
    }


# --- typed views of the stored objects -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    """One entry of a timeline; ``seq`` orders events that share a time."""

    seq: int
    time: str
    type: str
    message: str = ""
    wave: str = ""
    cluster: str = ""

    def to_dict(self) -> Manifest:
        """As stored (empty fields left out)."""
        data: Manifest = {"seq": self.seq, "time": self.time, "type": self.type}
        for name in ("wave", "cluster", "message"):
            if getattr(self, name):
                data[name] = getattr(self, name)
        return data

    @classmethod
    def of(cls, data: Manifest) -> Event:
        """The inverse of :meth:`to_dict`."""
        return cls(
            int(data["seq"]),
            data["time"],
            data["type"],
            data.get("message", ""),
            data.get("wave", ""),
            data.get("cluster", ""),
        )


@dataclass
class WaveCounts:
    """How many clusters of a wave are in each state."""

    name: str
    pending: int = 0
    in_flight: int = 0
    succeeded: int = 0
    failed: int = 0

    def to_dict(self) -> Manifest:
        """As stored in ``FleetRollout.status.waves``."""
        return {
            "name": self.name,
            "pending": self.pending,
            "inFlight": self.in_flight,
            "succeeded": self.succeeded,
            "failed": self.failed,
        }

    @classmethod
    def of(cls, data: Manifest) -> WaveCounts:
        """The inverse of :meth:`to_dict`."""
        return cls(data["name"], data["pending"], data["inFlight"], data["succeeded"], data["failed"])


@dataclass
class RolloutStatus:
    """``FleetRollout.status``, typed; the controller edits a copy and writes it back when it changed."""

    revision: str = ""
    observed_generation: int = 0
    phase: Phase = Phase.PROGRESSING
    wave: str = ""
    soak_until: str | None = None
    halt_reason: str | None = None
    retried: str | None = None
    prerequisites: str | None = None
    sequence: int = 0
    started_at: str | None = None
    completed_at: str | None = None
    waves: list[WaveCounts] = field(default_factory=list)
    timeline: list[Event] = field(default_factory=list)

    def to_dict(self) -> Manifest:
        """As stored (unset fields left out)."""
        data: Manifest = {
            "revision": self.revision,
            "observedGeneration": self.observed_generation,
            "phase": str(self.phase),
            "wave": self.wave,
            "sequence": self.sequence,
            "waves": [w.to_dict() for w in self.waves],
            "timeline": [e.to_dict() for e in self.timeline],
        }
        optional = {
            "soakUntil": self.soak_until,
            "haltReason": self.halt_reason,
            "retried": self.retried,
            "prerequisites": self.prerequisites,
            "startedAt": self.started_at,
            "completedAt": self.completed_at,
        }
        data.update({k: v for k, v in optional.items() if v is not None})
        return data

    @classmethod
    def of(cls, data: Manifest) -> RolloutStatus:
        """The inverse of :meth:`to_dict` (an empty status gives the defaults)."""
        return cls(
            revision=data.get("revision", ""),
            observed_generation=int(data.get("observedGeneration", 0)),
            phase=Phase(data.get("phase", Phase.PROGRESSING)),
            wave=data.get("wave", ""),
            soak_until=data.get("soakUntil"),
            halt_reason=data.get("haltReason"),
            retried=data.get("retried"),
            prerequisites=data.get("prerequisites"),
            sequence=int(data.get("sequence", 0)),
            started_at=data.get("startedAt"),
            completed_at=data.get("completedAt"),
            waves=[WaveCounts.of(w) for w in data.get("waves", [])],
            timeline=[Event.of(e) for e in data.get("timeline", [])],
        )


@dataclass(frozen=True)
class RolloutSpec:
    """``FleetRollout.spec``, typed."""

    revision: str
    paused: bool
    waves: tuple[WaveSpec, ...]

    @classmethod
    def of(cls, rollout: Manifest) -> RolloutSpec:
        """The spec of a stored FleetRollout."""
        spec = rollout.get("spec", {})
        return cls(spec["revision"], bool(spec.get("paused", False)), tuple(WaveSpec.of(w) for w in spec["waves"]))


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
        return [Event.of(e) for e in self.status.get("events", [])]

    def cluster_object(self) -> Manifest:
        """The desired CAPI Cluster."""
        cluster: Manifest = self.spec["objects"][-1]
        return cluster


def timeline_of(rollout: Manifest, clusters: Iterable[ClusterEntry]) -> list[Event]:
    """The rollout's events and its clusters' events of the current revision, in order."""
    events = list(RolloutStatus.of(rollout.get("status") or {}).timeline)
    for entry in clusters:
        events.extend(entry.events)
    return sorted(events, key=lambda e: (e.seq, e.time, e.type, e.cluster))
