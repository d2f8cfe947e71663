"""``requireApproval``: a wave starts no cluster until someone approved it for the rollout's revision.

An approval is steering, like a pause: ``fleetc rollout approve WAVE`` (:func:`fleetc.rollout.control.approve`)
records who and when in ``FleetRollout.spec.approvals``, naming the revision, so a new revision asks again. While the
current wave waits, ``status.awaitingApproval`` names it, the phase is ``AwaitingApproval`` and the timeline has one
``ApprovalNeeded`` event (a notification, :mod:`fleetc.engine.notify`); the approval adds an ``Approved`` event.
"""

from __future__ import annotations

from fleetc.rollout.model import WaveSpec
from fleetc.rollout.scope import Scope
from fleetc.rollout.wavegates.gate import WaveGate


def approve_hint(wave: str) -> str:
    """What to run to let ``wave`` start."""
    return f"run fleetc rollout approve {wave}"


class ApprovalGate(WaveGate):
    """Nothing of a wave that requires approval starts before its approval."""

    name = "approval"

    def free(self, scope: Scope, wave: WaveSpec) -> int | None:
        """0 while the wave waits for its approval (announced once); no limit once approved."""
        if not wave.require_approval:
            return None
        run = scope.run
        approval = run.spec.approval(wave.name)
        if approval is not None:
            if run.status.awaiting_approval == wave.name:
                run.status.awaiting_approval = None
                run.event("Approved", f"by {approval.by} at {approval.at}", wave=wave.name)
            return None
        if run.status.awaiting_approval != wave.name:
            run.status.awaiting_approval = wave.name
            run.event("ApprovalNeeded", approve_hint(wave.name), wave=wave.name)
        return 0
