"""The rollout order of a change (``fleetc plan``): waves in order, clusters per wave, gates between waves.

Each wave lists its clusters in rollout order (by name, as the compiler orders them) and marks the ones the
change touches; its gates are resolved by :func:`fleetc.plan.waves.resolve`, the function the rollout controller's
waves come from too (``maxConcurrent`` and the failure budget against the wave's size, percentages round down, at
least one cluster in flight; the soak and the control-plane deadline in seconds). Class revisions are applied
before the first wave (they replace no machine by themselves). A cluster that left the spec is listed in the wave
it was in (the last wave when that wave is gone), as deleted (decommissioned) or orphaned: ``fleetc apply`` deletes
or lets go of it there (:mod:`fleetc.rollout.removal`).

Needs the fleet model of the head side (gates live in ``fleet.yaml``); a built tree carries only wave names.
Caller: :func:`fleetc.plan.report.compare` with ``rollout=True``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass

from fleetc.plan import waves as wave_rules
from fleetc.plan.impact import ClusterImpact, Effect
from fleetc.plan.schedule import WaveTimes, schedule
from fleetc.plan.snapshot import Snapshot, WaveInfo


@dataclass(frozen=True)
class WaveStep:
    """One wave of the rollout and what the change does in it."""

    index: int
    name: str
    clusters: tuple[str, ...]
    touched: tuple[str, ...]
    deleted: tuple[str, ...]
    """Decommissioned clusters: their CAPI Cluster is deleted in this wave."""
    orphaned: tuple[str, ...]
    """Clusters let go of in this wave: left running, no longer managed."""
    max_concurrent: int | None
    soak_seconds: int | None
    control_plane_deadline_seconds: int | None
    failure_budget: int | None
    require_approval: bool = False
    times: WaveTimes | None = None
    """When the wave starts and ends (``fleetc plan --start``; :mod:`fleetc.plan.schedule`)."""

    @property
    def is_touched(self) -> bool:
        """True when any cluster of the wave changes."""
        return bool(self.touched or self.deleted or self.orphaned)

    @property
    def batches(self) -> int:
        """How many rounds of ``maxConcurrent`` clusters the touched clusters need at least."""
        if not self.touched:
            return 0
        width = self.max_concurrent or 1
        return -(-len(self.touched) // width)


@dataclass(frozen=True)
class RolloutPlan:
    """Every wave in order; clusters in no wave are listed apart (a valid fleet has none)."""

    waves: tuple[WaveStep, ...]
    unassigned: tuple[str, ...] = ()

    @property
    def touched_waves(self) -> tuple[str, ...]:
        """Names of the waves the change touches, in order."""
        return tuple(w.name for w in self.waves if w.is_touched)


def _step(index: int, wave: WaveInfo, touched: set[str], deleted: list[str], orphaned: list[str]) -> WaveStep:
    rules = wave_rules.resolve(wave.settings, wave.clusters, wave.windows) if wave.settings else None
    return WaveStep(
        index=index,
        name=wave.name,
        clusters=rules.clusters if rules else wave.clusters,
        touched=tuple(c for c in wave.clusters if c in touched),
        deleted=tuple(sorted(deleted)),
        orphaned=tuple(sorted(orphaned)),
        max_concurrent=rules.max_concurrent if rules else None,
        soak_seconds=rules.soak_seconds if rules else None,
        control_plane_deadline_seconds=rules.control_plane_deadline_seconds if rules else None,
        failure_budget=rules.failure_budget if rules else None,
        require_approval=rules.require_approval if rules else False,
    )


def rollout_order(
    head: Snapshot, impacts: Iterable[ClusterImpact], *, start: float | None = None, now: float | None = None
) -> RolloutPlan:
    """The waves of the head revision in order, with the clusters the change touches in each; with ``start`` (or
    ``now`` when a wave waits for approval or has maintenance windows), when each wave starts and ends."""
    impacts = list(impacts)
    touched = {i.name for i in impacts if i.changed and not i.removed}
    head_waves = [w.name for w in head.waves]
    removed: dict[tuple[Effect, str], list[str]] = {}
    lost = set()
    for impact in impacts:
        if impact.removed:
            wave = removal_wave(impact.wave, head_waves)
            if wave is None:
                lost.add(impact.name)
            else:
                removed.setdefault((impact.effect, wave), []).append(impact.name)
    steps = tuple(
        _step(
            i,
            w,
            touched,
            removed.get((Effect.DECOMMISSIONED, w.name), []),
            removed.get((Effect.ORPHANED, w.name), []),
        )
        for i, w in enumerate(head.waves, start=1)
    )
    in_waves = {c for w in head.waves for c in w.clusters}
    unassigned = tuple(sorted((touched - in_waves) | lost))
    gated = any(w.windows or (w.settings and w.settings.require_approval) for w in head.waves)
    start = start if start is not None else now if gated else None
    if start is not None and all(w.settings for w in head.waves):
        rules = [wave_rules.resolve(w.settings, w.clusters, w.windows) for w in head.waves if w.settings]
        times = schedule([(r, s.touched) for r, s in zip(rules, steps, strict=True)], start)
        steps = tuple(dataclasses.replace(s, times=t) for s, t in zip(steps, times, strict=True))
    return RolloutPlan(steps, unassigned)


def removal_wave(wave: str | None, waves: list[str]) -> str | None:
    """The wave a removed cluster is deleted or let go of in: its own, or the last when its own is gone."""
    if wave in waves:
        return wave
    return waves[-1] if waves else None
