"""Reading ``metav1.Condition`` lists the way CAPI v1beta2 objects carry them (``status.conditions``).

Callers: the gates and ``fleetc status`` (describe). The simulator writes conditions with its own
:mod:`fleetc.sim.status`, which orders them the way CAPI's controllers do.
"""

from __future__ import annotations

from typing import Any

from fleetc.core.keys import Manifest

Condition = dict[str, Any]
"""A ``metav1.Condition``: type, status, reason, message, lastTransitionTime, observedGeneration."""


def get_condition(obj: Manifest, condition_type: str) -> Condition | None:
    """The condition of that type in ``status.conditions``, or None."""
    status = obj.get("status")
    if not status:
        return None
    for condition in status.get("conditions", ()):
        if condition.get("type") == condition_type:
            found: Condition = condition
            return found
    return None
