"""Reading and writing ``metav1.Condition`` lists the way CAPI v1beta2 objects carry them."""

from __future__ import annotations

from typing import Any

from fleetc.core.keys import Manifest
from fleetc.runtime.clock import timestamp

Condition = dict[str, Any]


def get_condition(obj: Manifest, condition_type: str) -> Condition | None:
    """The condition of that type in ``status.conditions``, or None."""
    for condition in obj.get("status", {}).get("conditions", []):
        if condition.get("type") == condition_type:
            found: Condition = condition
            return found
    return None


def is_true(obj: Manifest, condition_type: str) -> bool:
    """True when the condition exists with status "True"."""
    condition = get_condition(obj, condition_type)
    return condition is not None and condition.get("status") == "True"


def set_condition(
    obj: Manifest, condition_type: str, status: bool | str, reason: str, message: str = "", *, now: float
) -> bool:
    """Set a condition in place; ``lastTransitionTime`` moves only when the status changes. True if changed."""
    text = status if isinstance(status, str) else ("True" if status else "False")
    conditions: list[Condition] = obj.setdefault("status", {}).setdefault("conditions", [])
    generation = obj.get("metadata", {}).get("generation", 1)
    wanted = {
        "type": condition_type,
        "status": text,
        "reason": reason,
        "message": message,
        "observedGeneration": generation,
    }
    for index, condition in enumerate(conditions):
        if condition.get("type") != condition_type:
            continue
        if all(condition.get(k) == v for k, v in wanted.items()):
            return False
        moved = condition.get("status") != text
        transition = timestamp(now) if moved else condition.get("lastTransitionTime", timestamp(now))
        conditions[index] = {**wanted, "lastTransitionTime": transition}
        return True
    conditions.append({**wanted, "lastTransitionTime": timestamp(now)})
    return True
