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
    conditions = status.get("conditions")
    if not conditions:
        return None
    return condition_in(conditions, condition_type)


def condition_in(conditions: list[Condition], condition_type: str) -> Condition | None:
    """The first condition of that type in a conditions list, or None (:func:`get_condition` for a list)."""
    if not conditions:
        return None
    memo = _BY_TYPE.get(id(conditions))
    if memo is None or memo[0] is not conditions or memo[1] != len(conditions):
        memo = _by_type(conditions)
    return memo[2].get(condition_type)


_BY_TYPE: dict[int, tuple[list[Condition], int, dict[Any, Condition]]] = {}
"""Conditions by type, by the identity of the list they were read from (kept alive here, so the identity is not
reused), with its length: a gate reads a dozen conditions of each object it judges, and objects are judged far more
often than written. A list that grew or shrank since is read again; one whose entries changed type in place is not
(nothing that reads through this does that: stored objects are replaced, not edited)."""
BY_TYPE_KEPT = 1 << 13
"""Lists remembered before the memo starts afresh (a few MB at most)."""


def _by_type(conditions: list[Condition]) -> tuple[list[Condition], int, dict[Any, Condition]]:
    by_type: dict[Any, Condition] = {}
    for condition in conditions:
        by_type.setdefault(condition.get("type"), condition)  # the first of a type wins, as a scan finds it
    if len(_BY_TYPE) >= BY_TYPE_KEPT:
        _BY_TYPE.clear()
    memo = _BY_TYPE[id(conditions)] = (conditions, len(conditions), by_type)
    return memo
