"""``failureBudget``: more failed clusters in the current wave than it tolerates halt the rollout."""

from __future__ import annotations

from fleetc.rollout.entries import ClusterEntry
from fleetc.rollout.model import ClusterState, WaveSpec
from fleetc.rollout.scope import Scope
from fleetc.rollout.wavegates.gate import WaveGate


class FailureBudget(WaveGate):
    """Halts when a wave's failures exceed its budget, naming the latest failed cluster and why it failed."""

    name = "failure-budget"

    def halt(self, scope: Scope, wave: WaveSpec) -> str | None:
        """The halt reason when the wave is over budget."""
        failed = scope.count(wave.name, ClusterState.FAILED)
        if failed <= wave.failure_budget:
            return None
        recent = [entry for entry in scope.run.failures if entry.wave == wave.name]
        culprit = recent[-1] if recent else _latest_failure(scope, wave)
        return (
            f"wave {wave.name}: {failed} of {wave.size} clusters failed, over its failure budget of "
            f"{wave.failure_budget}: {culprit.reason if culprit else 'unknown'}"
        )


def _latest_failure(scope: Scope, wave: WaveSpec) -> ClusterEntry | None:
    failed = scope.entries(wave.name, ClusterState.FAILED)
    return max(failed, key=lambda e: max((ev.seq for ev in e.events), default=0), default=None)
