"""Wave rules resolved against a wave's clusters: the one resolution ``fleetc plan`` and the rollout controller share.

A fleet's rollout policy (``fleet.yaml``, :class:`~fleetc.schema.fleet.Wave`) states its gates relative to a wave:
``maxConcurrent`` and ``failureBudget`` as a count or a percentage, soak and control-plane deadline as durations.
:func:`resolve` turns one wave and its clusters (in rollout order, as the compiler assigned them) into numbers:
percentages round down against the wave's size, at least one cluster is in flight, durations are seconds.

Callers: :mod:`fleetc.plan.rollout_order` (the order ``fleetc plan`` prints) and :mod:`fleetc.rollout.model` (the
waves the rollout controller runs); both call it through this module, so what ``plan`` shows is what the controller
does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from fleetc.render.rendered import WaveClusters
from fleetc.schema.fleet import Wave
from fleetc.schema.windows import MaintenanceWindow


@dataclass(frozen=True)
class WaveRules:
    """One wave: its clusters in rollout order and its gates as numbers."""

    name: str
    clusters: tuple[str, ...]
    max_concurrent: int
    soak_seconds: int
    control_plane_deadline_seconds: int
    failure_budget: int
    require_approval: bool = False
    windows: tuple[MaintenanceWindow | None, ...] = ()
    """Each cluster's maintenance window, in ``clusters`` order (None: any time); empty: none has one."""

    @property
    def size(self) -> int:
        """How many clusters the wave holds."""
        return len(self.clusters)


def resolve(wave: Wave, clusters: Sequence[str], windows: Mapping[str, MaintenanceWindow] | None = None) -> WaveRules:
    """The rules of ``wave`` for ``clusters`` (in rollout order), with each cluster's maintenance window."""
    size = len(clusters)
    windows = windows or {}
    return WaveRules(
        name=wave.name,
        clusters=tuple(clusters),
        max_concurrent=wave.max_concurrent.of(size, at_least=1),
        soak_seconds=int(wave.soak),
        control_plane_deadline_seconds=int(wave.control_plane_deadline),
        failure_budget=wave.failure_budget.of(size),
        require_approval=wave.require_approval,
        windows=tuple(windows.get(c) for c in clusters) if windows else (),
    )


def resolve_all(waves: Iterable[WaveClusters]) -> tuple[WaveRules, ...]:
    """Every compiled wave resolved, in rollout order."""
    return tuple(resolve(w.wave, w.clusters, w.windows) for w in waves)
