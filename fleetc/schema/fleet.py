"""The ``Fleet`` document (``fleet.yaml``): version policy, rollout waves and fleet-wide defaults."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from fleetc.schema.base import API_VERSION, ObjectMeta, SpecModel
from fleetc.schema.dates import Moment
from fleetc.schema.notifications import NotificationPolicy
from fleetc.schema.rotation import MachineRotation
from fleetc.schema.types import (
    Amount,
    AmountField,
    Duration,
    KubernetesVersion,
    LabelKey,
    Labels,
    LabelValue,
    Name,
)
from fleetc.schema.windows import MaintenanceWindow

Classification = Literal["preview", "supported", "deprecated"]


class VersionLifecycle(SpecModel):
    """Where a catalogue version is in its life: validation warns on deprecated ones and fails on expired ones."""

    classification: Classification = Field(
        default="supported", description="preview, supported or deprecated (a warning for clusters running it)."
    )
    expires: Moment | None = Field(
        default=None, description="From this date on, no cluster or channel may run the version (an error)."
    )


class VersionPolicy(SpecModel):
    """Which Kubernetes versions the fleet allows and the named channels clusters follow."""

    catalogue: list[KubernetesVersion] = Field(
        min_length=1, description="Every version a cluster may run, ascending (becomes kubernetesVersions)."
    )
    channels: dict[Name, KubernetesVersion] = Field(
        default_factory=dict, description="Named channels, e.g. stable: v1.34.2; a cluster follows one."
    )
    chained_upgrades: bool = Field(
        default=False,
        description="Allow upgrades over several minors in one step; CAPI chains them through the catalogue.",
    )
    lifecycle: dict[KubernetesVersion, VersionLifecycle] = Field(
        default_factory=dict,
        description="Classification and expiry date per catalogue version (unlisted ones: supported, no expiry).",
    )


class SelectorRequirement(SpecModel):
    """One label-selector expression, as in Kubernetes."""

    key: LabelKey
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist"]
    values: list[LabelValue] = Field(default_factory=list)

    @model_validator(mode="after")
    def _values_match_operator(self) -> SelectorRequirement:
        needs_values = self.operator in ("In", "NotIn")
        if needs_values and not self.values:
            raise ValueError(f"operator {self.operator} needs at least one value")
        if not needs_values and self.values:
            raise ValueError(f"operator {self.operator} takes no values")
        return self


class LabelSelector(SpecModel):
    """Selects clusters by their labels; an empty selector selects every cluster."""

    match_labels: Labels = Field(default_factory=dict)
    match_expressions: list[SelectorRequirement] = Field(default_factory=list)

    def matches(self, labels: dict[str, str]) -> bool:
        """True when ``labels`` satisfy every term of the selector."""
        if any(labels.get(k) != v for k, v in self.match_labels.items()):
            return False
        return all(_requirement_holds(r, labels) for r in self.match_expressions)


def _requirement_holds(requirement: SelectorRequirement, labels: dict[str, str]) -> bool:
    present = requirement.key in labels
    match requirement.operator:
        case "In":
            return present and labels[requirement.key] in requirement.values
        case "NotIn":
            return not present or labels[requirement.key] not in requirement.values
        case "Exists":
            return present
        case _:
            return not present


class Wave(SpecModel):
    """One stage of a rollout: the clusters it selects and the gates around it."""

    name: Name
    selector: LabelSelector = Field(description="Which clusters belong to this wave.")
    max_concurrent: AmountField = Field(
        default=Amount(1), description="Clusters in flight at once: a count or a percentage of the wave."
    )
    soak: Duration = Field(default=0, description="How long to wait after the wave is healthy.")
    control_plane_deadline: Duration = Field(
        default=1800, description="How long a control plane may take to come up before the cluster fails."
    )
    failure_budget: AmountField = Field(
        default=Amount(0), description="Failed clusters tolerated before the rollout halts."
    )
    window: MaintenanceWindow | None = Field(
        default=None, description="Clusters of this wave start only inside this maintenance window."
    )
    require_approval: bool = Field(
        default=False, description="The wave starts no cluster until someone runs fleetc rollout approve WAVE."
    )


class LabelWindow(SpecModel):
    """A maintenance window for the clusters a selector picks, whatever their wave (it wins over the wave's)."""

    selector: LabelSelector = Field(description="The clusters this window applies to.")
    window: MaintenanceWindow


class RolloutPolicy(SpecModel):
    """Ordered waves; every cluster falls in exactly one."""

    waves: list[Wave] = Field(min_length=1)
    windows: list[LabelWindow] = Field(
        default_factory=list,
        description="Maintenance windows by cluster label; the first that selects a cluster wins over its wave's.",
    )

    def window_of(self, wave: Wave, labels: dict[str, str]) -> MaintenanceWindow | None:
        """The maintenance window of a cluster with ``labels`` in ``wave``: by label first, else the wave's."""
        return next((w.window for w in self.windows if w.selector.matches(labels)), wave.window)


class FleetDefaults(SpecModel):
    """Values clusters take when they do not set their own."""

    channel: Name | None = Field(default=None, description="Channel for clusters that set neither version nor channel.")
    labels: Labels = Field(default_factory=dict, description="Labels every cluster gets (its own win).")


class FleetSpec(SpecModel):
    """Fleet-wide settings."""

    namespace: Name = Field(default="fleet-clusters", description="Management namespace of the CAPI objects.")
    versions: VersionPolicy
    rollout: RolloutPolicy
    defaults: FleetDefaults = Field(default_factory=FleetDefaults)
    machine_rotation: MachineRotation | None = Field(
        default=None, description="Machine rotation and certificate renewal for every cluster (a class may override)."
    )
    notifications: NotificationPolicy | None = Field(
        default=None, description="Who hears about halts, finished waves, approvals needed and completion."
    )
    exclude: list[str] = Field(
        default_factory=list,
        description="Globs of YAML files under the fleet root that are not fleet documents.",
    )


class FleetDocument(SpecModel):
    """``fleet.yaml``: one per repository, at the fleet root."""

    api_version: Literal["fleetc.io/v1alpha1"] = API_VERSION
    kind: Literal["Fleet"] = "Fleet"
    metadata: ObjectMeta
    spec: FleetSpec
