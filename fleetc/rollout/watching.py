"""The rollout controller's memory between reconciles: which clusters it watches, what changed, when deadlines fall.

A reconcile judges only the clusters that need it, so its cost follows what changed, not the fleet's size:

- a **watch** on a cluster (one in flight, or of a soaking wave) remembers the target it is judged against and the
  verdict last acted on; when the informer reports a change to that cluster's objects, a **check** of the cluster
  is scheduled (through the manager's queue, a moment later, so the many writes CAPI makes to one cluster at one
  instant cost one evaluation); the check recomputes the verdict and, only if its health changed, marks the
  cluster **changed** and enqueues its rollout (a predicate);
- **progress**: when a watched cluster's finding (what it waits for) last changed, so a cluster that stops
  progressing fails at its deadline (:class:`~fleetc.rollout.wavegates.progress.ProgressDeadline`);
- **deadlines** (control planes not yet healthy, clusters not progressing) sit in a heap per rollout; the reconcile
  takes those now due and requeues itself for the next one.
Nothing here is authoritative: after a restart, and after a pass that failed (it had taken its changed clusters and
due deadlines), the controller makes one full pass per rollout (``synced``) and rebuilds it.
Caller: :class:`~fleetc.rollout.controller.RolloutController`.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass

from fleetc.core.keys import ObjectKey
from fleetc.rollout.cache import ClusterId
from fleetc.rollout.gates import ClusterObjects, Health, Target, Verdict, evaluate


@dataclass(frozen=True)
class _Interest:
    rollout: ObjectKey
    name: str
    target: Target
    seen: tuple[Health, Health]


class Watchlist:
    """Watches, verdict memo, changed clusters and deadline heaps, for every rollout of one controller."""

    def __init__(
        self,
        objects: Callable[[ClusterId], ClusterObjects],
        enqueue: Callable[[ObjectKey], None],
        schedule: Callable[[ClusterId], None] | None = None,
        now: Callable[[], float] | None = None,
    ) -> None:
        self._objects, self._enqueue = objects, enqueue
        self._now = now or (lambda: 0.0)
        self._progress: dict[ClusterId, tuple[Target, str, float]] = {}
        self._schedule = schedule or self.check
        self._scheduled: set[ClusterId] = set()
        self._interest: dict[ClusterId, _Interest] = {}
        self._by_rollout: dict[ObjectKey, set[ClusterId]] = {}
        self._verdicts: dict[ClusterId, tuple[Target, Verdict]] = {}
        self._changed: dict[ObjectKey, set[str]] = {}
        self._heaps: dict[ObjectKey, list[tuple[float, str]]] = {}
        self._deadlines: dict[tuple[ObjectKey, str], float] = {}
        self.synced: set[ObjectKey] = set()
        """Rollouts this controller has made a full pass over since it started."""

    def verdict(self, cluster: ClusterId, target: Target) -> Verdict:
        """The gate's verdict, computed once per change of the cluster's objects."""
        cached = self._verdicts.get(cluster)
        if cached is not None and cached[0] == target:
            return cached[1]
        verdict = evaluate(self._objects(cluster), target)
        self._verdicts[cluster] = (target, verdict)
        finding = str(verdict.finding)
        progress = self._progress.get(cluster)
        if progress is None or progress[:2] != (target, finding):
            self._progress[cluster] = (target, finding, self._now())
        return verdict

    def progressing_since(self, cluster: ClusterId) -> float:
        """When the cluster's verdict last changed what it waits for (as far as this process saw)."""
        progress = self._progress.get(cluster)
        return progress[2] if progress is not None else self._now()

    def watch(self, rollout: ObjectKey, cluster: ClusterId, target: Target, verdict: Verdict) -> None:
        """Act on changes of this cluster's verdict from now on (``verdict`` is the one just acted on)."""
        self._interest[cluster] = _Interest(rollout, cluster[1], target, (verdict.health, verdict.control_plane))
        self._by_rollout.setdefault(rollout, set()).add(cluster)

    def unwatch(self, rollout: ObjectKey, cluster: ClusterId) -> None:
        """Stop watching a cluster (it finished, or its wave's soak ended)."""
        self._interest.pop(cluster, None)
        self._verdicts.pop(cluster, None)
        self._progress.pop(cluster, None)
        self._by_rollout.get(rollout, set()).discard(cluster)
        self._deadlines.pop((rollout, cluster[1]), None)

    def forget(self, rollout: ObjectKey) -> None:
        """Drop everything about a rollout (deleted, or restarted on a new revision)."""
        for cluster in self._by_rollout.pop(rollout, set()):
            self._interest.pop(cluster, None)
            self._verdicts.pop(cluster, None)
            self._progress.pop(cluster, None)
        self._changed.pop(rollout, None)
        self._heaps.pop(rollout, None)
        self._deadlines = {k: v for k, v in self._deadlines.items() if k[0] != rollout}
        self.synced.discard(rollout)

    def on_change(self, cluster: ClusterId) -> None:
        """The informer saw a change to the cluster's objects: schedule a check when the cluster is watched."""
        self._verdicts.pop(cluster, None)
        if cluster in self._interest and cluster not in self._scheduled:
            self._scheduled.add(cluster)
            self._schedule(cluster)

    def check(self, cluster: ClusterId) -> None:
        """Enqueue the cluster's rollout if its verdict changed since the rollout last acted on it."""
        self._scheduled.discard(cluster)
        interest = self._interest.get(cluster)
        if interest is None:
            return
        verdict = self.verdict(cluster, interest.target)
        if (verdict.health, verdict.control_plane) != interest.seen:
            self.mark_changed(interest.rollout, interest.name)

    def mark_changed(self, rollout: ObjectKey, name: str) -> None:
        """The cluster's verdict changed since its rollout last acted on it: tell the rollout (checked here, or in
        the process of a sharded simulation that holds the cluster)."""
        self._changed.setdefault(rollout, set()).add(name)
        self._enqueue(rollout)

    def take_changed(self, rollout: ObjectKey) -> set[str]:
        """The clusters of a rollout whose verdict changed since the last call."""
        return self._changed.pop(rollout, set())

    def set_deadline(self, rollout: ObjectKey, name: str, at: float) -> None:
        """Judge the cluster again at ``at`` (a deadline; the earliest one set since the last judgement counts)."""
        current = self._deadlines.get((rollout, name))
        if current is not None and current <= at:
            return
        self._deadlines[(rollout, name)] = at
        heapq.heappush(self._heaps.setdefault(rollout, []), (at, name))

    def due(self, rollout: ObjectKey, now: float) -> set[str]:
        """The clusters whose deadline has come."""
        heap, found = self._heaps.get(rollout, []), set()
        while heap and heap[0][0] <= now:
            at, name = heapq.heappop(heap)
            if self._deadlines.get((rollout, name)) == at:
                del self._deadlines[(rollout, name)]
                found.add(name)
        return found

    def next_deadline(self, rollout: ObjectKey) -> float | None:
        """The earliest deadline still pending."""
        heap = self._heaps.get(rollout, [])
        while heap and self._deadlines.get((rollout, heap[0][1])) != heap[0][0]:
            heapq.heappop(heap)
        return heap[0][0] if heap else None
