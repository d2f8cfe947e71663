"""The rollout API: the kinds ``FleetRollout``, ``ClusterRollout`` and ``FleetRevision`` as typed models.

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

The models are pydantic, camelCase on the wire: :meth:`ApiModel.dump` gives the stored form (unset optional fields
left out) and ``model_validate`` reads it back; ``model_json_schema(by_alias=True)`` describes each kind.
Callers: :mod:`fleetc.rollout.desired` (builds the objects), :mod:`fleetc.rollout.entries` (typed views of stored
ClusterRollouts), the controller (reads and writes status), :mod:`fleetc.rollout.control` and the CLI (display).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from fleetc.core.keys import Manifest
from fleetc.plan.waves import WaveRules
from fleetc.schema.notifications import NotificationPolicy
from fleetc.schema.windows import MaintenanceWindow

GROUP: Final = "fleetc.io"
API_VERSION: Final = "fleetc.io/v1alpha1"
FLEET_ROLLOUT: Final = "FleetRollout"
CLUSTER_ROLLOUT: Final = "ClusterRollout"
FLEET_REVISION: Final = "FleetRevision"
ROLLOUT_LABEL = f"{GROUP}/rollout"
RETRY_ANNOTATION = f"{GROUP}/retry"
"""Set to a new value to resume a halted rollout: the failed clusters of the current wave are retried."""


class Phase(StrEnum):
    """Where a rollout is."""

    PROGRESSING = "Progressing"
    SOAKING = "Soaking"
    HALTED = "Halted"
    PAUSED = "Paused"
    AWAITING_APPROVAL = "AwaitingApproval"
    COMPLETE = "Complete"


class ClusterState(StrEnum):
    """Where one cluster of a rollout is."""

    PENDING = "Pending"
    IN_FLIGHT = "InFlight"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"


class ApiModel(BaseModel):
    """camelCase on the wire, populated by field name in code; unknown fields are kept out of the typed view."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    def dump(self) -> Manifest:
        """The stored form: camelCase, JSON values, unset optional fields left out."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


def _empty(value: object) -> bool:
    return not value


# --- FleetRollout ----------------------------------------------------------------------------------------------------


class WaveSpec(ApiModel):
    """One wave with its amounts resolved against its size (``FleetRollout.spec.waves[]``)."""

    model_config = ConfigDict(frozen=True)

    name: str
    size: int
    max_concurrent: int
    soak_seconds: int
    control_plane_deadline_seconds: int
    failure_budget: int
    require_approval: bool = Field(default=False, exclude_if=_empty)
    windowed: bool = Field(default=False, exclude_if=_empty, description="Some clusters have a maintenance window.")

    @classmethod
    def of_rules(cls, rules: WaveRules) -> WaveSpec:
        """The wave as :func:`fleetc.plan.waves.resolve` resolved it."""
        return cls(
            name=rules.name,
            size=rules.size,
            max_concurrent=rules.max_concurrent,
            soak_seconds=rules.soak_seconds,
            control_plane_deadline_seconds=rules.control_plane_deadline_seconds,
            failure_budget=rules.failure_budget,
            require_approval=rules.require_approval,
            windowed=any(w is not None for w in rules.windows),
        )


class RolloutSpec(ApiModel):
    """``FleetRollout.spec``."""

    model_config = ConfigDict(frozen=True)

    revision: str
    paused: bool = False
    waves: tuple[WaveSpec, ...]
    approvals: tuple[Approval, ...] = Field(
        default=(), exclude_if=_empty, description="Who approved which wave of which revision, and when."
    )
    notifications: NotificationPolicy | None = Field(default=None, description="The fleet's receivers.")

    def approval(self, wave: str) -> Approval | None:
        """The approval of ``wave`` for this spec's revision, if any."""
        return next((a for a in self.approvals if a.wave == wave and a.revision == self.revision), None)


class Approval(ApiModel):
    """``fleetc rollout approve WAVE``: who let a wave of a revision start, and when."""

    model_config = ConfigDict(frozen=True)

    wave: str
    revision: str
    by: str
    at: str


class Event(ApiModel):
    """One entry of a timeline; ``seq`` orders events that share a time. Empty fields are left out when stored."""

    model_config = ConfigDict(frozen=True)

    seq: int
    time: str
    type: str
    wave: str = Field(default="", exclude_if=_empty)
    cluster: str = Field(default="", exclude_if=_empty)
    message: str = Field(default="", exclude_if=_empty)


class WaveCounts(ApiModel):
    """How many clusters of a wave are in each state (``FleetRollout.status.waves[]``)."""

    name: str
    pending: int = 0
    in_flight: int = 0
    succeeded: int = 0
    failed: int = 0


class RolloutStatus(ApiModel):
    """``FleetRollout.status``; the controller edits a copy and writes it back when it changed."""

    revision: str = ""
    observed_generation: int = 0
    phase: Phase = Phase.PROGRESSING
    wave: str = ""
    progress: str | None = Field(default=None, description="Clusters succeeded / clusters in the rollout, e.g. 3/14.")
    sequence: int = 0
    waves: list[WaveCounts] = Field(default_factory=list)
    timeline: list[Event] = Field(default_factory=list)
    soak_until: str | None = None
    awaiting_approval: str | None = Field(default=None, description="The wave waiting for fleetc rollout approve.")
    window_wait: str | None = Field(
        default=None, description="When the next maintenance window opens that pending clusters wait for."
    )
    halt_reason: str | None = None
    retried: str | None = None
    prerequisites: str | None = None
    started_at: str | None = None
    completed_at: str | None = None
    conditions: list[dict[str, Any]] = Field(
        default_factory=list, description="Progressing, Halted and Complete (metav1.Condition)."
    )


class ObjectMeta(ApiModel):
    """The metadata fleetc sets on its rollout objects."""

    name: str
    namespace: str
    labels: dict[str, str] = Field(default_factory=dict)
    owner_references: list[OwnerReference] | None = None


class OwnerReference(ApiModel):
    """A ClusterRollout's owner: its FleetRollout."""

    api_version: str
    kind: str
    name: str
    uid: str
    controller: bool = True


class FleetRollout(ApiModel):
    """The kind ``FleetRollout``: one per fleet."""

    api_version: Literal["fleetc.io/v1alpha1"] = "fleetc.io/v1alpha1"
    kind: Literal["FleetRollout"] = "FleetRollout"
    metadata: ObjectMeta
    spec: RolloutSpec
    status: RolloutStatus | None = None


# --- ClusterRollout --------------------------------------------------------------------------------------------------


class ClusterRef(ApiModel):
    """The workload cluster a ClusterRollout rolls out."""

    name: str
    namespace: str


class ClusterTarget(ApiModel):
    """What the cluster should run: a Kubernetes version and, for class-based clusters, a class revision.

    ``workerRemediations``: how many worker Machines CAPI may replace in one attempt before the cluster counts as
    failed (unset: 10% of its worker replicas, at least 1; see
    :func:`fleetc.rollout.gate_objects.worker_remediation_budget`).
    """

    version: str
    class_ref: str | None = None
    worker_remediations: int | None = Field(default=None, ge=0)


class ClusterRolloutSpec(ApiModel):
    """``ClusterRollout.spec``: where the cluster sits in its rollout and what to apply."""

    rollout: str
    revision: str
    wave: str
    order: int
    cluster: ClusterRef
    target: ClusterTarget
    objects: list[dict[str, Any]] = Field(description="The desired objects of the cluster, the CAPI Cluster last.")
    action: str | None = Field(
        default=None,
        description="Unset: apply the objects. Delete or Orphan: the cluster left the spec (fleetc.rollout.removal).",
    )
    machines: str | None = Field(default=None, description="For a removal: the machines the live Cluster had.")
    window: MaintenanceWindow | None = Field(
        default=None, description="The cluster starts only inside this maintenance window (unset: any time)."
    )


class ClusterRolloutStatus(ApiModel):
    """``ClusterRollout.status`` (about ``revision``; a status about another revision reads as pending)."""

    revision: str = ""
    state: ClusterState = ClusterState.PENDING
    attempts: int = 0
    started_at: str | None = None
    preexisting_machines: list[str] = Field(
        default_factory=list,
        description="The cluster's Machines when the attempt started (their failures are history).",
    )
    unchanged: bool | None = Field(
        default=None, description="True when the live cluster already ran the target: nothing was applied."
    )
    control_plane_healthy_at: str | None = None
    finished_at: str | None = None
    reason: str | None = None
    events: list[Event] = Field(default_factory=list)


class ClusterRollout(ApiModel):
    """The kind ``ClusterRollout``: one per cluster of a rollout."""

    api_version: Literal["fleetc.io/v1alpha1"] = "fleetc.io/v1alpha1"
    kind: Literal["ClusterRollout"] = "ClusterRollout"
    metadata: ObjectMeta
    spec: ClusterRolloutSpec
    status: ClusterRolloutStatus | None = None


# --- FleetRevision ---------------------------------------------------------------------------------------------------


class FleetRevisionSpec(ApiModel):
    """``FleetRevision.spec``: the objects applied before any cluster, in apply order."""

    revision: str
    objects: list[dict[str, Any]]


class FleetRevision(ApiModel):
    """The kind ``FleetRevision``: one per fleet."""

    api_version: Literal["fleetc.io/v1alpha1"] = "fleetc.io/v1alpha1"
    kind: Literal["FleetRevision"] = "FleetRevision"
    metadata: ObjectMeta
    spec: FleetRevisionSpec


ObjectMeta.model_rebuild()
RolloutSpec.model_rebuild()
