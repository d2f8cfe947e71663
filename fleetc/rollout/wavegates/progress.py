"""The progress deadline: a cluster in flight whose verdict has not moved for too long fails, workers included.

The control-plane deadline only covers the control plane; after it, a cluster could wait for ever (a worker whose
Node never appears with no MachineHealthCheck, a drain a PodDisruptionBudget blocks). This gate fails a cluster whose
finding — what its verdict waits for — has not changed for :data:`STALL_FACTOR` × its wave's control-plane
deadline, so every rollout ends complete or halted with a reason. "Changed" is as far as this process saw (a
restarted controller starts counting again).
"""

from __future__ import annotations

from fleetc.rollout.entries import ClusterEntry
from fleetc.rollout.gates import Verdict
from fleetc.rollout.scope import Scope
from fleetc.rollout.wavegates.gate import WaveGate
from fleetc.schema.types import format_duration

STALL_FACTOR = 2
"""A cluster may wait on one thing this many times its wave's control-plane deadline."""


class ProgressDeadline(WaveGate):
    """Fails a cluster in flight whose verdict has not changed for twice its wave's control-plane deadline."""

    name = "progress-deadline"

    def expire(self, scope: Scope, entry: ClusterEntry, verdict: Verdict) -> str | None:
        """The failure reason once the cluster waited on one thing too long; until then, the deadline is watched."""
        run = scope.run
        seconds = STALL_FACTOR * run.wave_of(entry).control_plane_deadline_seconds
        since = max(scope.workloads.progressing_since((entry.namespace, entry.name)), entry.started_at or run.now)
        deadline = since + seconds
        if run.now < deadline:
            scope.watch.set_deadline(run.key, entry.name, deadline)
            return None
        return f"cluster {entry.name}: no progress for {format_duration(seconds)}: {verdict.finding}"
