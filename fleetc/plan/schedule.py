"""When each wave of a rollout would start and end (``fleetc plan``), given soak, approvals and maintenance windows.

An estimate, from a start time, wave by wave, with what ``fleet.yaml`` knows: the clusters the change touches start
in rollout order, at most ``maxConcurrent`` at once, each only inside its maintenance window (by cluster label, else
its wave's: :meth:`fleetc.schema.fleet.RolloutPolicy.window_of`), and each is assumed to take its wave's
control-plane deadline (the longest its control plane may take before the rollout fails it; real clusters are often
faster — ``fleetc simulate`` shows a simulated run). A finished wave soaks, then the next starts; a wave that
requires approval is assumed approved the moment it is reached (the schedule says it waits). A wave the change does
not touch takes no time. The controller starts a later cluster while an earlier one waits for its window; this
estimate keeps rollout order, so with windows it can be later than the real run, never earlier.
Callers: :func:`fleetc.plan.rollout_order.rollout_order` (``fleetc plan --start``), tests.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass

from fleetc.plan.waves import WaveRules


@dataclass(frozen=True)
class WaveTimes:
    """When a wave starts (is reached) and ends (its last cluster done and its soak over), POSIX seconds."""

    starts: float
    ends: float
    waits_for_approval: bool
    windowed: bool


def wave_times(rules: WaveRules, touched: Sequence[str], reached: float) -> WaveTimes:
    """The times of one wave reached at ``reached`` whose ``touched`` clusters roll."""
    windows = dict(zip(rules.clusters, rules.windows, strict=True)) if rules.windows else {}
    slots = [reached] * max(1, min(rules.max_concurrent, len(touched) or 1))
    heapq.heapify(slots)
    done = reached
    for cluster in (c for c in rules.clusters if c in set(touched)):
        free = heapq.heappop(slots)
        window = windows.get(cluster)
        begins = window.next_opening(free) if window is not None else free
        finished = begins + rules.control_plane_deadline_seconds
        heapq.heappush(slots, finished)
        done = max(done, finished)
    soak = rules.soak_seconds if touched else 0
    return WaveTimes(reached, done + soak, rules.require_approval and bool(touched), any(windows.values()))


def schedule(waves: Sequence[tuple[WaveRules, Sequence[str]]], start: float) -> tuple[WaveTimes, ...]:
    """Each wave's times, in order: (rules, the clusters the change touches) from ``start``."""
    times: list[WaveTimes] = []
    moment = start
    for rules, touched in waves:
        found = wave_times(rules, touched, moment)
        times.append(found)
        moment = found.ends
    return tuple(times)
