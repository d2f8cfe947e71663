"""``controlPlaneDeadlineSeconds``: a control plane not healthy that long after its cluster started fails it."""

from __future__ import annotations

from fleetc.rollout.entries import ClusterEntry
from fleetc.rollout.gates import Health, Verdict
from fleetc.rollout.scope import Scope
from fleetc.rollout.wavegates.gate import WaveGate
from fleetc.schema.types import format_duration


class ControlPlaneDeadline(WaveGate):
    """Fails a cluster whose control plane is not healthy by its wave's deadline; until then, wakes up for it."""

    name = "control-plane-deadline"

    def expire(self, scope: Scope, entry: ClusterEntry, verdict: Verdict) -> str | None:
        """The failure reason once the deadline has passed; before it, the deadline is watched."""
        if entry.control_plane_healthy or verdict.control_plane is Health.HEALTHY:
            return None
        run = scope.run
        seconds = run.wave_of(entry).control_plane_deadline_seconds
        deadline = (entry.started_at or run.now) + seconds
        if run.now < deadline:
            scope.watch.set_deadline(run.key, entry.name, deadline)
            return None
        return f"cluster {entry.name}: control plane not healthy within {format_duration(seconds)}: {verdict.finding}"
