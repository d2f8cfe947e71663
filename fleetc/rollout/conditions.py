"""The FleetRollout's ``status.conditions``: ``Progressing``, ``Halted`` and ``Complete``, as ``metav1.Condition``\\ s.

Derived from the phase the controller computed, so ``kubectl wait --for=condition=Complete fleetrollout/NAME`` and
dashboards read a rollout the way they read any Kubernetes object. Reasons are CamelCase codes; messages say what
happened in words: a halt's message is the halt reason, which names the wave, the cluster, the object and the CAPI
condition that failed it. A condition keeps its ``lastTransitionTime`` while its status stays the same.
Caller: :func:`fleetc.rollout.reconcile_waves.save`, before the status is written.
"""

from __future__ import annotations

from typing import Any

from fleetc.rollout.model import Phase, RolloutStatus

Condition = dict[str, Any]

PROGRESSING, HALTED, COMPLETE = "Progressing", "Halted", "Complete"


def rollout_conditions(
    status: RolloutStatus, previous: list[Condition], *, stamp: str, generation: int
) -> list[Condition]:
    """The three conditions for ``status`` (its phase already set), keeping unchanged transition times."""
    before = {c.get("type"): c for c in previous}
    wanted = [
        (PROGRESSING, *_progressing(status)),
        (HALTED, *_halted(status)),
        (COMPLETE, *_complete(status)),
    ]
    result = []
    for kind, state, reason, message in wanted:
        old = before.get(kind)
        since = old["lastTransitionTime"] if old and old.get("status") == state else stamp
        result.append(
            {
                "type": kind,
                "status": state,
                "observedGeneration": generation,
                "lastTransitionTime": since,
                "reason": reason,
                "message": message,
            }
        )
    return result


def _progress(status: RolloutStatus) -> str:
    done = sum(w.succeeded + w.failed for w in status.waves)
    total = sum(w.pending + w.in_flight + w.succeeded + w.failed for w in status.waves)
    in_flight = sum(w.in_flight for w in status.waves)
    return f"wave {status.wave}: {done} of {total} clusters done, {in_flight} in flight"


def _progressing(status: RolloutStatus) -> tuple[str, str, str]:
    phase = status.phase
    if phase is Phase.PROGRESSING:
        return "True", "WaveInProgress", _progress(status)
    if phase is Phase.SOAKING:
        return "True", "Soaking", f"{_progress(status)}; soaking until {status.soak_until}"
    if phase is Phase.PAUSED:
        return "False", "Paused", f"paused: {_progress(status)}"
    if phase is Phase.AWAITING_APPROVAL:
        return "False", "AwaitingApproval", f"waiting for approval of wave {status.awaiting_approval}"
    if phase is Phase.HALTED:
        return "False", "Halted", f"halted: {_progress(status)}"
    return "False", "Completed", _progress(status)


def _halted(status: RolloutStatus) -> tuple[str, str, str]:
    if status.halt_reason is not None:
        return "True", "FailureBudgetExceeded", status.halt_reason
    return "False", "WithinFailureBudget", ""


def _complete(status: RolloutStatus) -> tuple[str, str, str]:
    if status.completed_at is None:
        return "False", "InProgress", ""
    succeeded = sum(w.succeeded for w in status.waves)
    failed = sum(w.failed for w in status.waves)
    return "True", "Completed", f"{succeeded} clusters succeeded, {failed} failed"
