"""Fault injection for the simulated ``inmemory`` provider: fault files, command-line flags, and matching.

Parsed here, consulted by :class:`fleetc.sim.inmemory.InMemoryProvider`; the CLI checks with
:func:`unmatched_faults` that every fault names something in the fleet.

Fault file (YAML; every list optional; ``cluster`` and ``pool`` accept globs such as ``eu-*``)::

    apiVersion: fleetc.io/v1alpha1      # optional
    kind: SimulationFaults              # optional
    controlPlaneNeverReady:             # control-plane machines whose Node never appears
      - cluster: sim-canary-1
        onCreate: true                  # optional: only while the control plane was never initialized
        version: v1.35.0                # optional: only machines of this Kubernetes version
        classRevision: standard-local-sim-cd2777  # optional: only while the Cluster uses this class revision
    failingPools:                       # worker pools whose machines never get a Node
      - cluster: us-prod-1
        pool: general                   # topology name or class of the MachineDeployment
        machines: 1                     # optional: only the first N machines of the pool (default: all)
    slowBoots:                          # machines that take longer to come up
      - cluster: "eu-*"                 # default "*"
        pool: control-plane             # "control-plane", a worker pool, or "*" (default)
        factor: 3                       # boot time × 3 ...
        # duration: 20m                 # ... or a fixed boot time (exactly one of factor, duration)
    providerErrors:                     # every provider API call fails for a period
      - from: 10m                       # after the rollout started (simulate --base: the rollout, not the base)
        for: 30m
        cluster: "*"                    # default "*"
        message: 503 Service Unavailable  # optional

Qualifiers of one ``controlPlaneNeverReady`` entry must all hold; several entries add up. Durations are
Kubernetes-style strings (``90s``, ``10m``, ``1h30m``) or whole seconds.

Command-line flags (see :meth:`Faults.from_flags`): ``--fail-control-plane CLUSTER[@create|@vX.Y.Z|@REVISION]``,
``--fail-pool CLUSTER/POOL[=N]``, ``--slow-boot CLUSTER[/POOL]=FACTORx|DURATION``,
``--provider-errors FROM+FOR[@CLUSTER]``.
"""

from __future__ import annotations

import re
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


class ControlPlaneNeverReady(_Model):
    """Control-plane machines of a cluster never get a Node."""

    cluster: str
    on_create: bool = False
    version: KubernetesVersion | None = None
    class_revision: str | None = None


class FailingPool(_Model):
    """Machines of a worker pool never get a Node (only the first ``machines`` of them, when given)."""

    cluster: str
    pool: str
    machines: int | None = Field(default=None, ge=1)


class SlowBoot(_Model):
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

    def merged(self, other: Faults) -> Faults:
        """Both sets of faults."""
        return Faults(
            control_plane_never_ready=[*self.control_plane_never_ready, *other.control_plane_never_ready],
            failing_pools=[*self.failing_pools, *other.failing_pools],
            slow_boots=[*self.slow_boots, *other.slow_boots],
            provider_errors=[*self.provider_errors, *other.provider_errors],
        )

    @classmethod
    def from_flags(
        cls,
        *,
        fail_control_plane: Sequence[str] = (),
        fail_pool: Sequence[str] = (),
        slow_boot: Sequence[str] = (),
        provider_errors: Sequence[str] = (),
    ) -> Faults:
        """Faults from command-line flag values (each flag may repeat)."""
        return cls(
            control_plane_never_ready=[control_plane_flag(v) for v in fail_control_plane],
            failing_pools=[pool_flag(v) for v in fail_pool],
            slow_boots=[slow_boot_flag(v) for v in slow_boot],
            provider_errors=[provider_errors_flag(v) for v in provider_errors],
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


def control_plane_flag(value: str) -> ControlPlaneNeverReady:
    """``CLUSTER``, ``CLUSTER@create``, ``CLUSTER@v1.35.0`` or ``CLUSTER@<class revision>``."""
    cluster, _, qualifier = value.partition("@")
    if not cluster:
        raise FaultsError(f"--fail-control-plane {value!r}: expected CLUSTER[@create|@vX.Y.Z|@REVISION]")
    if not qualifier:
        return ControlPlaneNeverReady(cluster=cluster)
    if qualifier == "create":
        return ControlPlaneNeverReady(cluster=cluster, on_create=True)
    if re.fullmatch(r"v\d+\.\d+\.\d+", qualifier):
        return ControlPlaneNeverReady(cluster=cluster, version=qualifier)
    return ControlPlaneNeverReady(cluster=cluster, class_revision=qualifier)


def pool_flag(value: str) -> FailingPool:
    """``CLUSTER/POOL`` or ``CLUSTER/POOL=N`` (only the first N machines of the pool fail)."""
    target, _, count = value.partition("=")
    cluster, _, pool = target.partition("/")
    if not cluster or not pool or (count and not count.isdigit()) or count == "0":
        raise FaultsError(f"--fail-pool {value!r}: expected CLUSTER/POOL[=N]")
    return FailingPool(cluster=cluster, pool=pool, machines=int(count) if count else None)


def slow_boot_flag(value: str) -> SlowBoot:
    """``CLUSTER[/POOL]=3x`` (a factor) or ``CLUSTER[/POOL]=20m`` (a fixed boot time)."""
    target, _, amount = value.partition("=")
    cluster, _, pool = target.partition("/")
    try:
        if amount.endswith("x"):
            return SlowBoot(cluster=cluster or "*", pool=pool or "*", factor=float(amount[:-1]))
        return SlowBoot(cluster=cluster or "*", pool=pool or "*", duration=parse_duration(amount))
    except (ValueError, ValidationError) as exc:
        raise FaultsError(f"--slow-boot {value!r}: expected CLUSTER[/POOL]=FACTORx|DURATION ({exc})") from None


def provider_errors_flag(value: str) -> ProviderErrors:
    """``FROM+FOR`` or ``FROM+FOR@CLUSTER`` (``10m+30m``: failing from 10 minutes in, for 30 minutes)."""
    window, _, cluster = value.partition("@")
    start, _, length = window.partition("+")
    try:
        return ProviderErrors(start=parse_duration(start), length=parse_duration(length), cluster=cluster or "*")
    except ValueError as exc:
        raise FaultsError(f"--provider-errors {value!r}: expected FROM+FOR[@CLUSTER] ({exc})") from None


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
        ("controlPlaneNeverReady", faults.control_plane_never_ready, _control_plane_in, "cluster"),
        ("failingPools", faults.failing_pools, lambda e, s: _pool_in(e.pool, s), "worker pool"),
        ("slowBoots", faults.slow_boots, _slow_boot_in, "cluster or pool"),
        ("providerErrors", faults.provider_errors, lambda e, s: True, "cluster"),
    ]
    return [
        f"{field} {_describe(entry)}: matches no {what} of the fleet"
        for field, entries, fits, what in checks
        for entry in entries
        if not any(fnmatchcase(shape.cluster, entry.cluster) and fits(entry, shape) for shape in shapes)
    ]


def _control_plane_in(entry: ControlPlaneNeverReady, shape: FleetShape) -> bool:
    return (entry.version is None or entry.version in shape.versions) and (
        entry.class_revision is None or entry.class_revision in shape.class_revisions
    )


def _slow_boot_in(entry: SlowBoot, shape: FleetShape) -> bool:
    return entry.pool in ("*", CONTROL_PLANE_POOL) or _pool_in(entry.pool, shape)


def _pool_in(pattern: str, shape: FleetShape) -> bool:
    return any(fnmatchcase(pool, pattern) for pool in shape.pools)


def _describe(entry: _Model) -> str:
    fields = entry.model_dump(by_alias=True, exclude_defaults=True, mode="json")
    return ", ".join(f"{k}={v}" for k, v in fields.items())
