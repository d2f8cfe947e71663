"""v1beta2 conditions the way CAPI writes them: ordered lists, stable transition times, nested messages.

- A status is recomputed whole on every reconcile and written only when it differs from the stored one.
- ``lastTransitionTime`` moves only when ``status`` changes; ``observedGeneration`` is the object's generation
  at the last set (``util/conditions/setter.go`` L72-100). Mirrors keep the source's time (``mirror.go`` L76).
- Conditions are listed in the order each controller gives (CAPI sorts Available, Ready, UpToDate first and
  Paused, Deleting last: ``util/conditions/sort.go`` L98).
- Messages nest as in ``util/conditions/merge_strategies.go`` (indentIfMultiline L561): ``* Type: message``
  for one line, an indented block otherwise; aggregates group objects sharing a message
  (``* Machines a, b:``) and show at most three groups (``aggregate.go``).
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from fleetc.core.keys import Manifest
from fleetc.runtime.informer import SharedPool
from fleetc.sim.api import stamp

Condition = dict[str, Any]
TRUE, FALSE, UNKNOWN = "True", "False", "Unknown"
MAX_GROUPS = 3
MAX_NAMES = 3


class Cond(NamedTuple):
    """A condition to set: type, status, reason, message; ``since`` keeps a mirrored source's transition time.

    A named tuple: statuses are rebuilt on every reconcile, and tuples are built several times faster than
    frozen dataclasses."""

    type: str
    status: str
    reason: str
    message: str = ""
    since: str | None = None


_NO_STATUS: dict[str, Any] = {}
_NO_CONDITIONS: list[Condition] = []


def conditions_of(obj: Manifest) -> list[Condition]:
    """``status.conditions`` (empty when none); read-only (an object without conditions gets one shared empty list:
    no list is made per call)."""
    found: list[Condition] = obj.get("status", _NO_STATUS).get("conditions", _NO_CONDITIONS)
    return found


def find(conditions: Iterable[Condition], condition_type: str) -> Condition | None:
    """The condition of a type in a list, or None."""
    for condition in conditions:
        if condition["type"] == condition_type:
            return condition
    return None


def status_of(obj: Manifest, condition_type: str) -> str | None:
    """The status string of a condition of ``obj``, or None when it is not set."""
    found = find(conditions_of(obj), condition_type)
    return found["status"] if found is not None else None


CONDITION_FIELDS = 6
"""The fields :func:`build` writes (a condition with other fields is rebuilt, never carried over)."""


def build(
    previous: Sequence[Condition], wanted: Iterable[Cond | Condition], generation: int, now: float
) -> list[Condition]:
    """The new condition list, in ``wanted`` order; a plain dict in ``wanted`` is carried over unchanged, and so is
    a previous condition that would be rebuilt exactly as it is (the same dict: comparing statuses stays cheap)."""
    by_type: dict[str, Condition] | None = None  # built only when the types are not in the previous order
    result: list[Condition] = []
    count = len(previous)
    for position, item in enumerate(wanted):
        if type(item) is not Cond:  # a condition carried over as it is
            result.append(item)  # type: ignore[arg-type]  # not a Cond: a Condition
            continue
        condition_type, status, reason, message, since = item
        old = previous[position] if position < count else None
        if old is None or old["type"] != condition_type:
            if by_type is None:
                by_type = {c["type"]: c for c in previous}
            old = by_type.get(condition_type)
        if old is None or old["status"] != status:
            if since is None:
                since = stamp(now)
        else:
            if since is None:
                since = old["lastTransitionTime"]
            if (
                since == old["lastTransitionTime"]
                and old["reason"] == reason
                and old.get("message") == message
                and old.get("observedGeneration") == generation
                and len(old) == CONDITION_FIELDS
            ):
                result.append(old)
                continue
        result.append(_shared((since, message, generation, reason, status, condition_type)))
    return result


_FIELD_NAMES = ("lastTransitionTime", "message", "observedGeneration", "reason", "status", "type")


def _shared(fields: tuple[str, str, int, str, str, str]) -> Condition:
    """The condition with these fields (in :data:`_FIELD_NAMES` order): one dict per distinct value, shared by every
    object that carries it (stored objects are never edited in place). A fleet's Machines, MachineSets and Clusters
    go through the same states: a simulation holds about four times as many conditions as distinct ones, so sharing
    them keeps a 10,000-cluster run's memory in bounds."""
    key = hash(fields)
    found: Condition | None = _POOL.find(key)
    if found is not None and tuple(found.values()) == fields:
        return found
    pooled = _POOL.shared(key, dict(zip(_FIELD_NAMES, fields, strict=True)), operator.eq)
    _POOL.purge_if_grown()
    return pooled


_POOL = SharedPool()


def mirror(source: Condition | None, condition_type: str, missing: Cond) -> Cond:
    """A condition mirroring ``source`` under another type (``missing`` when the source is not set)."""
    if source is None:
        return missing
    return Cond(condition_type, source["status"], source["reason"], source["message"], source["lastTransitionTime"])


def indent(text: str, spaces: int) -> str:
    """Every line of ``text`` indented."""
    pad = " " * spaces
    return "\n".join(pad + line for line in text.split("\n"))


def bullet(header: str, message: str) -> str:
    """``* header: message``, or a nested block when the message has several lines or is itself a list."""
    if message.startswith("* "):
        return f"* {header}:\n{indent(message, 2)}"
    if "\n" in message:
        first, rest = message.split("\n", 1)
        return f"* {header}:\n  * {first}\n{indent(rest, 4)}"
    return f"* {header}: {message}" if message else f"* {header}"


def aggregate(kind: str, items: Sequence[tuple[str, str]], plural: str | None = None) -> str:
    """Objects grouped by message: ``* Machines a, b:\\n  * why``; at most three groups, the rest counted."""
    return _aggregate(kind, tuple(items), plural)


@functools.lru_cache(maxsize=1 << 12)
def _aggregate(kind: str, items: tuple[tuple[str, str], ...], plural: str | None) -> str:
    """:func:`aggregate`, remembered: owners report the same objects with the same messages reconcile after
    reconcile, and each report groups, sorts and joins."""
    groups: dict[str, list[str]] = {}
    for name, message in items:
        groups.setdefault(message, []).append(name)
    ordered = sorted(groups.items(), key=lambda item: (-len(item[1]), sorted(item[1])[0]))
    lines = [_group_line(kind, plural or f"{kind}s", names, message) for message, names in ordered[:MAX_GROUPS]]
    others = sum(len(names) for _, names in ordered[MAX_GROUPS:])
    if others:
        lines.append(f"* {others} {kind if others == 1 else plural or kind + 's'} with other issues")
    return "\n".join(lines)


def _group_line(kind: str, plural: str, names: list[str], message: str) -> str:
    names = sorted(names)
    shown = ", ".join(names[:MAX_NAMES])
    if len(names) > MAX_NAMES:
        shown += f", ... ({len(names) - MAX_NAMES} more)"
    header = f"{plural if len(names) > 1 else kind} {shown}"
    return bullet(header, message)


def summary(items: Sequence[tuple[str, str]]) -> str:
    """Condition types with their messages, one bullet each (a summary condition's message)."""
    return "\n".join(bullet(kind, message) for kind, message in items)
