"""Reading ``metav1.Condition`` lists the way CAPI v1beta2 objects carry them."""

from __future__ import annotations

from typing import Any

from fleetc.core.keys import Manifest

Condition = dict[str, Any]


def get_condition(obj: Manifest, condition_type: str) -> Condition | None:
    """The condition of that type in ``status.conditions``, or None."""
    for condition in obj.get("status", {}).get("conditions", []):
        if condition.get("type") == condition_type:
            found: Condition = condition
            return found
    return None
