"""``maxConcurrent``: at most that many clusters of a wave in flight at once."""

from __future__ import annotations

from fleetc.rollout.model import ClusterState, WaveSpec
from fleetc.rollout.scope import Scope
from fleetc.rollout.wavegates.gate import WaveGate


class Concurrency(WaveGate):
    """Starts clusters of the current wave until ``maxConcurrent`` are in flight."""

    name = "concurrency"

    def free(self, scope: Scope, wave: WaveSpec) -> int | None:
        """``maxConcurrent`` less the clusters of the wave in flight."""
        return wave.max_concurrent - scope.count(wave.name, ClusterState.IN_FLIGHT)
