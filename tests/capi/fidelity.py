"""The same rollouts through fleetc's simulation, reduced to what must agree with a real CAPI run.

What must agree: the order of wave and cluster events (which cluster started, succeeded or failed, in which wave,
when a wave completed or the rollout halted) and the final phase. Times, messages and machine names differ by
nature; ``docs/simulation.md`` ("Compared with real CAPI v1.14") records the differences measured.
Used by ``tests/capi/test_lifecycle.py`` and ``tests/capi/test_halt.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

from fleetc.contract.timestamps import parse_timestamp
from fleetc.engine import local
from fleetc.rollout import RolloutPlan, RolloutView
from fleetc.sim.faults import Faults

Decision = tuple[str, str, str]
"""``(event type, wave, cluster)``."""


def decisions(view: RolloutView) -> list[Decision]:
    """The rollout's events in order, without times and messages."""
    return [(event.type, event.wave, event.cluster) for event in view.timeline]


def simulate(plans: Sequence[RolloutPlan], faults: Faults | None = None) -> list[RolloutView]:
    """Each plan rolled out in turn on one simulated plane (virtual time); their views."""
    plane = local.open_plane(faults=faults)
    return [local.roll_out(plane, plan) for plan in plans]


def cluster_seconds(view: RolloutView) -> dict[str, float]:
    """How long each cluster took from start to finish (seconds of the run's clock)."""
    return {
        c.name: parse_timestamp(c.finished_at) - parse_timestamp(c.started_at)
        for c in view.clusters
        if c.started_at and c.finished_at
    }
