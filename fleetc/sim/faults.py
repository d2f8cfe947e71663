"""Fault injection for the simulated ``inmemory`` provider: fault files, their models, and checking them.

Parsed here, consulted by :class:`fleetc.sim.inmemory.InMemoryProvider`; the CLI checks with
:func:`unmatched_faults` that every fault names something in the fleet. Command-line flags are parsed by
:mod:`fleetc.sim.fault_flags`.

Fault file (YAML; every list optional; ``cluster`` and ``pool`` accept globs such as ``eu-*``)::

    apiVersion: fleetc.io/v1alpha1      # optional
    kind: SimulationFaults              # optional
    controlPlaneNeverReady:             # control-plane machines whose Node never appears
      - cluster: sim-canary-1
        onUpgrade: true                 # optional: only machines made to roll out a change (or onCreate: true)
        version: v1.35.0                # optional: only machines of this Kubernetes version
        classRevision: standard-local-sim-cd2777  # optional: only while the Cluster uses this class revision
    failingPools:                       # worker pools whose machines never get a Node
      - cluster: us-prod-1
        pool: general                   # topology name or class of the MachineDeployment
        machines: 1                     # optional: only the pool's first N machines in each cluster (default: all)
        version: v1.35.0                # optional qualifiers, as above
    slowBoots:                          # machines that take longer to come up
      - cluster: "eu-*"                 # default "*"
        pool: control-plane             # "control-plane", a worker pool, or "*" (default)
        factor: 3                       # boot time × 3 ...
        # duration: 20m                 # ... or a fixed boot time (exactly one of factor, duration)
    nodeFailures:                       # Nodes that go bad after joining
      - cluster: eu-1
        pool: control-plane             # default "*"
        version: v1.34.2                # e.g. an old control-plane machine ...
        after: 2m                       # ... 2 minutes into the rollout (a new Node: after it came up)
        state: NotReady                 # NotReady (kubelet stops reporting; default) or Deleted (Node deleted)
        machines: 1                     # optional: only the first N matching machines in each cluster
    blockedDrains:                      # a PodDisruptionBudget blocks draining these machines' Nodes
      - cluster: eu-1
        pool: general
        for: 30m                        # optional, from the drain's start (default: as long as the command runs)
    stuckVolumes:                       # these machines' Nodes keep a volume attached after their drain
      - cluster: eu-1
        pool: general
        for: 30m                        # optional, from the start of the wait (default: as long as the command runs)
    slowDeletions:                      # deleting the infrastructure takes this long
      - cluster: eu-1
        duration: 10m
    providerErrors:                     # every provider API call fails for a period
      - from: 10m                       # after the rollout started (simulate --base: the rollout, not the base)
        for: 30m
        cluster: "*"                    # default "*"
        message: 503 Service Unavailable  # optional

Qualifiers (``onCreate``/``onUpgrade``, ``version``, ``classRevision``; see :class:`Scope`) fit every kind but
``providerErrors``; those of one entry must all hold; several entries add up. Durations are Kubernetes-style
strings (``90s``, ``10m``, ``1h30m``) or whole seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, PlainValidator, ValidationError, model_validator
from pydantic.alias_generators import to_camel

from fleetc.core.errors import FaultsError
from fleetc.schema.types import KubernetesVersion, format_duration, parse_duration

CONTROL_PLANE_POOL = "control-plane"


def _seconds(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"{value} is negative; a duration is at least 0s")
        return value
    return parse_duration(value)


Seconds = Annotated[int, PlainValidator(_seconds), PlainSerializer(format_duration, return_type=str)]
"""A duration: ``'90s'``, ``'10m'``, ``'1h30m'``, or whole seconds."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, alias_generator=to_camel, populate_by_name=True)


class Scope(_Model):
    """Qualifiers that limit a fault to part of a rollout; all given ones must hold.

    ``onCreate``/``onUpgrade``: only machines made (or, for drains and deletions, removed) while their owner —
    the KubeadmControlPlane or the MachineDeployment — is *not* / *is* rolling out a change, i.e. while it has
    no / some Machines of another version, template or kubeadm configuration. ``version``: only machines of this
    Kubernetes version. ``classRevision``: only while the Cluster uses this ClusterClass revision.
    """

    on_create: bool = False
    on_upgrade: bool = False
    version: KubernetesVersion | None = None
    class_revision: str | None = None

    @model_validator(mode="after")
    def _create_or_upgrade(self) -> Scope:
        if self.on_create and self.on_upgrade:
            raise ValueError("give at most one of onCreate and onUpgrade")
        return self

    def holds(self, *, upgrade: bool, version: str, class_revision: str) -> bool:
        """True when every qualifier holds for a machine."""
        return (
            not (self.on_create and upgrade)
            and not (self.on_upgrade and not upgrade)
            and (self.version is None or self.version == version)
            and (self.class_revision is None or self.class_revision == class_revision)
        )


class ControlPlaneNeverReady(Scope):
    """Control-plane machines of a cluster never get a Node."""

    cluster: str


class FailingPool(Scope):
    """Machines of a worker pool never get a Node (only the first ``machines`` of them, when given)."""

    cluster: str
    pool: str
    machines: int | None = Field(default=None, ge=1)


class SlowBoot(Scope):
    """Machines boot slower: a factor on their boot time, or a fixed boot time."""

    cluster: str = "*"
    pool: str = "*"
    factor: float | None = Field(default=None, gt=0)
    duration: Seconds | None = None

    @model_validator(mode="after")
    def _one_of(self) -> SlowBoot:
        if (self.factor is None) == (self.duration is None):
            raise ValueError("give exactly one of factor and duration")
        return self


class NodeFailure(Scope):
    """A Node that joined goes bad ``after`` a while: its kubelet stops reporting (``NotReady``: the Node's
    conditions turn Unknown) or the Node object is deleted (``Deleted``). Counted from when the Node came up, or
    from the start of the rollout for a Node that was already up then (an old machine failing mid-upgrade)."""

    cluster: str
    pool: str = "*"
    after: Seconds = 0
    state: Literal["NotReady", "Deleted"] = "NotReady"
    machines: int | None = Field(default=None, ge=1)


class HeldDeletion(Scope):
    """A stage of these machines' deletion that waits, for ``for`` from the start of the wait (default: as long as
    the command runs); ``machines``: only the first N matching machines in each cluster."""

    cluster: str
    pool: str = "*"
    length: Seconds | None = Field(default=None, alias="for")
    machines: int | None = Field(default=None, ge=1)


class BlockedDrain(HeldDeletion):
    """A PodDisruptionBudget refuses every eviction from these machines' Nodes, from the start of the drain. CAPI
    waits for the drain unless the Machine's ``spec.deletion.nodeDrainTimeoutSeconds`` runs out first."""


class StuckVolumes(HeldDeletion):
    """A volume stays attached to these machines' Nodes after their drain, from the start of CAPI's wait for it
    (``status.deletion.waitForNodeVolumeDetachStartTime``). CAPI waits unless the Machine's
    ``spec.deletion.nodeVolumeDetachTimeoutSeconds`` runs out first, or the Node is unreachable or gone."""


class SlowDeletion(Scope):
    """Deleting these machines' infrastructure takes ``duration`` (the Machine stays, deleting, until then)."""

    cluster: str
    pool: str = "*"
    duration: Seconds


class ProviderErrors(_Model):
    """Every provider API call fails for a period."""

    start: Seconds = Field(alias="from")
    length: Seconds = Field(alias="for")
    cluster: str = "*"
    message: str = "503 Service Unavailable"


class Faults(_Model):
    """Everything the in-memory provider should get wrong."""

    api_version: Literal["fleetc.io/v1alpha1"] = "fleetc.io/v1alpha1"
    kind: Literal["SimulationFaults"] = "SimulationFaults"
    control_plane_never_ready: list[ControlPlaneNeverReady] = Field(default_factory=list)
    failing_pools: list[FailingPool] = Field(default_factory=list)
    slow_boots: list[SlowBoot] = Field(default_factory=list)
    provider_errors: list[ProviderErrors] = Field(default_factory=list)
    node_failures: list[NodeFailure] = Field(default_factory=list)
    blocked_drains: list[BlockedDrain] = Field(default_factory=list)
    stuck_volumes: list[StuckVolumes] = Field(default_factory=list)
    slow_deletions: list[SlowDeletion] = Field(default_factory=list)

    def merged(self, other: Faults) -> Faults:
        """Both sets of faults."""
        return Faults.model_validate({name: [*getattr(self, name), *getattr(other, name)] for name in FAULT_LISTS})

    @classmethod
    def from_flags(cls, **flags: Sequence[str]) -> Faults:
        """Faults from command-line flag values (each flag may repeat): keyword ``fail_control_plane``,
        ``fail_pool``, ``slow_boot``, ``provider_errors``, ``fail_node``, ``delete_node``, ``block_drain``,
        ``stuck_volumes``, ``slow_delete`` (see :mod:`fleetc.sim.fault_flags`)."""
        from fleetc.sim.fault_flags import faults_from_flags

        return cls.model_validate(faults_from_flags(flags))


FAULT_LISTS = (
    "control_plane_never_ready",
    "failing_pools",
    "slow_boots",
    "provider_errors",
    "node_failures",
    "blocked_drains",
    "stuck_volumes",
    "slow_deletions",
)


def parse_faults(document: Any, source: str = "<faults>") -> Faults:
    """Faults from a parsed YAML document (None or empty means no faults)."""
    if document is None:
        return Faults()
    try:
        return Faults.model_validate(document)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or '<root>'}: {error['msg']}" for error in exc.errors()
        )
        raise FaultsError(f"{source}: {problems}") from None


def load_faults(path: Path) -> Faults:
    """Faults from a fault file."""
    try:
        document = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise FaultsError(f"{path}: cannot read the fault file ({exc})") from None
    return parse_faults(document, str(path))


@dataclass(frozen=True)
class FleetShape:
    """What a fault may name in one cluster: its pools (topology names and classes), versions and class revisions."""

    cluster: str
    pools: frozenset[str]
    versions: frozenset[str]
    class_revisions: frozenset[str]


def unmatched_faults(faults: Faults, shapes: Sequence[FleetShape]) -> list[str]:
    """Why each fault entry can never fire on these clusters (empty: every entry names something real).

    A fault that matches nothing would make a green run that tested nothing; callers turn the list into a usage error.
    """
    checks: list[tuple[str, Sequence[Any], Callable[[Any, FleetShape], bool], str]] = [
        ("controlPlaneNeverReady", faults.control_plane_never_ready, _scope_in, "cluster"),
        ("failingPools", faults.failing_pools, lambda e, s: _pool_in(e.pool, s) and _scope_in(e, s), "worker pool"),
        ("slowBoots", faults.slow_boots, _any_pool_in, "cluster or pool"),
        ("providerErrors", faults.provider_errors, lambda e, s: True, "cluster"),
        ("nodeFailures", faults.node_failures, _any_pool_in, "cluster or pool"),
        ("blockedDrains", faults.blocked_drains, _any_pool_in, "cluster or pool"),
        ("stuckVolumes", faults.stuck_volumes, _any_pool_in, "cluster or pool"),
        ("slowDeletions", faults.slow_deletions, _any_pool_in, "cluster or pool"),
    ]
    return [
        f"{field} {_describe(entry)}: matches no {what} of the fleet"
        for field, entries, fits, what in checks
        for entry in entries
        if not any(fnmatchcase(shape.cluster, entry.cluster) and fits(entry, shape) for shape in shapes)
    ]


def _scope_in(entry: Scope, shape: FleetShape) -> bool:
    return (entry.version is None or entry.version in shape.versions) and (
        entry.class_revision is None or entry.class_revision in shape.class_revisions
    )


def _any_pool_in(entry: Any, shape: FleetShape) -> bool:
    pool_fits = entry.pool in ("*", CONTROL_PLANE_POOL) or _pool_in(entry.pool, shape)
    return bool(pool_fits and _scope_in(entry, shape))


def _pool_in(pattern: str, shape: FleetShape) -> bool:
    return any(fnmatchcase(pool, pattern) for pool in shape.pools)


def _describe(entry: _Model) -> str:
    fields = entry.model_dump(by_alias=True, exclude_defaults=True, mode="json")
    scope = {"onCreate", "onUpgrade", "version", "classRevision"}
    ordered = [k for k in fields if k not in scope] + [k for k in fields if k in scope]
    return ", ".join(f"{k}={fields[k]}" for k in ordered)
