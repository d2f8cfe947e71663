"""Maintenance windows: a pending cluster starts only while its window is open (one in flight finishes anyway).

Each ClusterRollout carries its resolved window (``spec.window``: by cluster label, else its wave's;
:meth:`fleetc.schema.fleet.RolloutPolicy.window_of`). Unlike the wave gates, the rule is per cluster, so
:func:`admit` filters the pending clusters the others let start: those inside their window start, in rollout order;
for the rest the rollout wakes up when the earliest of their windows opens, and the timeline says once per opening
what they wait for (``WaitingForWindow``; ``status.windowWait``). Caller: :func:`fleetc.rollout.reconcile_waves.start`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from fleetc.contract.timestamps import timestamp
from fleetc.rollout.entries import ClusterEntry
from fleetc.rollout.model import WaveSpec
from fleetc.rollout.scope import Scope
from fleetc.schema.windows import MaintenanceWindow

NAMED = 5
"""A ``WaitingForWindow`` event names this many waiting clusters, then counts the rest."""


def window_of(entry: ClusterEntry) -> MaintenanceWindow | None:
    """The cluster's maintenance window (None: it may start any time); parsed once per distinct window."""
    found = entry.spec.get("window")
    if not found:
        return None
    days = found.get("days")
    return _parsed(tuple(days) if days else None, found["start"], found["duration"], found.get("timeZone"))


@functools.lru_cache(maxsize=256)
def _parsed(days: tuple[str, ...] | None, start: str, duration: str, zone: str | None) -> MaintenanceWindow:
    fields = {"start": start, "duration": duration, **({"days": list(days)} if days else {})}
    return MaintenanceWindow.model_validate({**fields, **({"timeZone": zone} if zone else {})})


def admit(scope: Scope, wave: WaveSpec, pending: Iterable[ClusterEntry], free: int) -> list[ClusterEntry]:
    """Up to ``free`` of ``pending`` (in order) whose window is open now; wake up for the next opening of the rest."""
    run = scope.run
    chosen: list[ClusterEntry] = []
    waiting: list[tuple[float, ClusterEntry, MaintenanceWindow]] = []
    for entry in pending:
        if len(chosen) >= free:
            break
        window = window_of(entry)
        if window is None or window.opening(run.now) is not None:
            chosen.append(entry)
        else:
            waiting.append((window.next_opening(run.now), entry, window))
    if not waiting or len(chosen) >= free:
        run.status.window_wait = None
        return chosen
    opens, first, window = min(waiting, key=lambda item: item[0])
    run.wakeups.append(opens)
    stamp = timestamp(opens)
    if run.status.window_wait != stamp:
        run.status.window_wait = stamp
        names = ", ".join(entry.name for _, entry, _ in waiting[:NAMED])
        names += f" and {len(waiting) - NAMED} more" if len(waiting) > NAMED else ""
        message = f"{names}: outside their maintenance window; {first.name}'s ({window.describe()}) opens at {stamp}"
        run.event("WaitingForWindow", message, wave=wave.name)
    return chosen
