"""``soakSeconds``: a finished wave waits that long before the next starts; a cluster failing meanwhile counts.

A wave with nothing to do (every cluster already ran its target when it started, none failed) does not soak:
there is nothing new to watch.
"""

from __future__ import annotations

from fleetc.contract.timestamps import parse_timestamp, timestamp
from fleetc.rollout.model import ClusterState, WaveSpec
from fleetc.rollout.scope import Scope
from fleetc.rollout.wavegates.gate import WaveGate


class Soak(WaveGate):
    """Holds a finished wave for its soak (``status.soakUntil``), judging its clusters meanwhile."""

    name = "soak"

    def free(self, scope: Scope, wave: WaveSpec) -> int | None:
        """Nothing starts while the wave soaks."""
        return 0 if scope.run.status.soak_until is not None else None

    def hold(self, scope: Scope, wave: WaveSpec) -> bool:
        """Starts the soak when the wave finishes; True until it has lasted ``soakSeconds``."""
        run = scope.run
        if not wave.soak_seconds:
            return False
        if run.status.soak_until is None and unchanged(scope, wave):
            return False
        if run.status.soak_until is None:
            run.status.soak_until = timestamp(run.now + wave.soak_seconds)
            run.event("WaveCompleted", completed_text(scope, wave), wave=wave.name)
            run.event("SoakStarted", f"until {run.status.soak_until}", wave=wave.name)
            run.wakeups.append(parse_timestamp(run.status.soak_until))
            for entry in scope.entries(wave.name, ClusterState.SUCCEEDED):
                scope.observe_soaking(entry)
            return True
        until = parse_timestamp(run.status.soak_until)
        if run.now < until:
            run.wakeups.append(until)
            return True
        return False

    def release(self, scope: Scope, wave: WaveSpec) -> bool:
        """Ends the soak (its clusters are no longer judged); True when there was one (it announced the wave)."""
        run = scope.run
        if run.status.soak_until is None:
            return False
        run.event("SoakCompleted", wave=wave.name)
        run.status.soak_until = None
        for entry in scope.entries(wave.name, ClusterState.SUCCEEDED):
            scope.unwatch(entry)
        return True


def unchanged(scope: Scope, wave: WaveSpec) -> bool:
    """True when the finished wave changed nothing: every cluster succeeded without anything to apply."""
    succeeded = scope.entries(wave.name, ClusterState.SUCCEEDED)
    return (
        bool(succeeded)
        and not scope.count(wave.name, ClusterState.FAILED)
        and all(e.status.get("unchanged") for e in succeeded)
    )


def completed_text(scope: Scope, wave: WaveSpec) -> str:
    """``3 succeeded, 1 failed``: the message of a ``WaveCompleted`` event."""
    counts = scope.counts(wave)
    text = f"{counts.succeeded} succeeded, {counts.failed} failed"
    return f"{text}; nothing to do, no soak" if wave.soak_seconds and unchanged(scope, wave) else text
