"""The sharded simulation: one fleet's rollout simulated across processes, one core each (``simulate --workers``).

The embedded plane (:mod:`fleetc.engine.local`) runs on one core; a 10,000-cluster upgrade takes minutes there.
Workload clusters interact only through the rollout controller, so they can live in different processes:

- each workload cluster belongs to one :class:`~fleetc.engine.shard.Shard` (by a hash of its namespace and name);
  shard 0 runs in this process, the others in child processes (each a fresh interpreter, so the memory each
  reports is its own); every shard simulates CAPI over its own clusters and gets the revision's shared objects
  (namespaces, class revisions);
- this process, the coordinator, holds the rollout's own objects (FleetRollout, FleetRevision, ClusterRollouts) and
  runs the rollout controller over them; whatever the controller does to or reads from a workload cluster
  (:class:`~fleetc.rollout.workloads.Workloads`) goes to the shard that holds the cluster (:class:`ShardedWorkloads`);
- virtual time moves in lockstep. At each instant the shards with work due run it, in parallel, up to that instant
  and report the clusters whose verdict changed; then the coordinator runs the rollout controller at that instant
  (in the single-process plane it runs last at an instant too: its ``level`` is the highest), which may write to
  the shards at the same instant; they run again, and so on until nothing is due at the instant. Then time jumps to
  the earliest instant anything is due, in any process.

So a sharded run makes the same rollout as the single-process plane: the same verdicts, the same events at the same
times, the same objects (``tests/sim/test_sharded.py`` compares them). Uids and resourceVersions differ: each
process's store counts its own.
Not sharded: ``apply --local`` (its state file holds one store), real time, and notifications.
Callers: ``fleetc simulate --workers`` and ``bench/simulate_bench.py``.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from fleetc import rollout
from fleetc.core.keys import Manifest, ObjectKey
from fleetc.engine import sim_approvals
from fleetc.engine.local import MAX_VIRTUAL_SECONDS, SettledWatch, settled_view
from fleetc.engine.shard import Shard, ShardHandle, Usage, start_remote
from fleetc.engine.sim_approvals import Approvals, SimulatedApprover
from fleetc.load.loader import collector_paused
from fleetc.render.names import FLEET_LABEL
from fleetc.rollout import RolloutPlan, RolloutView
from fleetc.rollout.cache import ClusterId
from fleetc.rollout.controller import RolloutController
from fleetc.rollout.gates import Target, Verdict
from fleetc.rollout.watching import Watchlist
from fleetc.rollout.workloads import LiveTopology
from fleetc.runtime.clock import EPOCH, VirtualClock
from fleetc.runtime.manager import Manager
from fleetc.runtime.memory import MemoryStore
from fleetc.sim.faults import Faults


def shard_of(cluster: ClusterId, shards: int) -> int:
    """The shard that holds a workload cluster: stable across runs and processes."""
    return zlib.crc32(f"{cluster[0]}/{cluster[1]}".encode()) % shards


class ShardedWorkloads:
    """The rollout controller's :class:`~fleetc.rollout.workloads.Workloads`, each call sent to the shard holding
    the cluster (shared objects to every shard); remembers which shards it wrote to at the current instant."""

    def __init__(self, watch: Watchlist, shards: Sequence[ShardHandle], now: Callable[[], float]) -> None:
        self._watch, self._shards, self._now = watch, shards, now
        self.touched: set[int] = set()
        """The shards called since the coordinator last ran them: they may have work at this instant."""

    def _owner(self, cluster: ClusterId) -> ShardHandle:
        index = shard_of(cluster, len(self._shards))
        self.touched.add(index)
        return self._shards[index]

    def judge(self, rollout: ObjectKey, cluster: ClusterId, target: Target) -> Verdict:
        return self._owner(cluster).judge(self._now(), rollout, cluster, target)

    def progressing_since(self, cluster: ClusterId) -> float:
        return self._owner(cluster).progressing_since(self._now(), cluster)

    def unwatch(self, rollout: ObjectKey, cluster: ClusterId) -> None:
        self._watch.unwatch(rollout, cluster)  # its deadline: kept here
        self._owner(cluster).unwatch(self._now(), rollout, cluster)

    def forget(self, rollout: ObjectKey) -> None:
        self._watch.forget(rollout)
        for shard in self._shards:
            shard.forget(self._now(), rollout)

    def machine_names(self, cluster: ClusterId) -> list[str]:
        return self._owner(cluster).machine_names(self._now(), cluster)

    def live_topology(self, cluster: ClusterId) -> LiveTopology | None:
        return self._owner(cluster).live_topology(self._now(), cluster)

    def apply_cluster(
        self, cluster: ClusterId, desired: Manifest, objects: Sequence[Manifest], version: str
    ) -> tuple[str | None, bool]:
        return self._owner(cluster).apply_cluster(self._now(), cluster, desired, objects, version)

    def apply_shared(self, obj: Manifest) -> None:
        for index, shard in enumerate(self._shards):
            shard.apply_shared(self._now(), obj)
            self.touched.add(index)

    def delete_cluster(self, cluster: ClusterId) -> None:
        self._owner(cluster).delete_cluster(self._now(), cluster)

    def let_go(self, cluster: ClusterId) -> None:
        self._owner(cluster).let_go(self._now(), cluster)

    def mark_changed(self, rollout: ObjectKey, name: str) -> None:
        """A shard reported that the cluster's verdict changed: its rollout acts on it."""
        self._watch.mark_changed(rollout, name)


@dataclass
class ShardedPlane:
    """A running sharded simulation (see the module docstring); close it (or use :func:`sharded_plane`)."""

    store: MemoryStore
    """The rollout's own objects."""
    clock: VirtualClock
    manager: Manager
    """Runs the rollout controller (and a simulated approver) over :attr:`store`."""
    shards: list[ShardHandle]
    workloads: ShardedWorkloads
    approver: SimulatedApprover | None
    _due: list[float | None]
    """When each shard has work next, as last reported (or now, once written to)."""
    _reconciles: list[int]

    @property
    def reconciles(self) -> int:
        """Reconciles run so far, in every process."""
        return self.manager.stats.reconciles + sum(self._reconciles)

    def usage(self) -> list[Usage]:
        """What each shard holds and used (shard 0 shares this process with the coordinator)."""
        return [shard.usage() for shard in self.shards]

    def close(self) -> None:
        """Stop the shards' processes."""
        for shard in self.shards:
            shard.close()


def open_sharded(
    workers: int, *, faults: Faults | None = None, seed: int = 0, approvals: Approvals | None = None
) -> ShardedPlane:
    """A sharded simulation over ``workers`` processes (this one included), in virtual time from the epoch."""
    if workers < 2:
        raise ValueError(f"a sharded simulation needs at least 2 workers, not {workers}")
    chosen = faults or Faults()
    shards: list[ShardHandle] = [Shard(seed, EPOCH, chosen)]
    try:
        for _ in range(workers - 1):
            shards.append(start_remote(seed, EPOCH, chosen))
        clock = VirtualClock(EPOCH)
        store = MemoryStore(clock)
        manager = Manager(store, clock)
        controller = RolloutController(
            store,
            clock,
            lambda manifest: None,  # never called: ShardedWorkloads applies in the shards
            lambda key: manager.enqueue(rollout.NAME, key),
            workloads=lambda watch: ShardedWorkloads(watch, shards, clock.now),
        )
        workloads = controller.workloads
        assert isinstance(workloads, ShardedWorkloads)
        manager.add(controller)
        approver = sim_approvals.install(manager, approvals) if approvals is not None else None
    except BaseException:
        for shard in shards:
            shard.close()
        raise
    return ShardedPlane(store, clock, manager, shards, workloads, approver, [None] * workers, [0] * workers)


@contextmanager
def sharded_plane(
    workers: int, *, faults: Faults | None = None, seed: int = 0, approvals: Approvals | None = None
) -> Iterator[ShardedPlane]:
    """:func:`open_sharded`, closed on the way out."""
    plane = open_sharded(workers, faults=faults, seed=seed, approvals=approvals)
    try:
        yield plane
    finally:
        plane.close()


def roll_out(
    plane: ShardedPlane, plan: RolloutPlan, *, allow_delete: bool = False, faults: Faults | None = None
) -> RolloutView:
    """:func:`fleetc.engine.local.roll_out` on a sharded simulation: submit, run until the rollout settles."""
    now = plane.clock.now()
    for index, shard in enumerate(plane.shards):
        shard.begin_rollout(now, faults)
        plane._due[index] = now  # new faults may have queued work
    key = _submit(plane, plan, allow_delete)
    return settled_view(plane.store, key, run_until_settled(plane, key))


def _submit(plane: ShardedPlane, plan: RolloutPlan, allow_delete: bool) -> ObjectKey:
    """Submit the rollout; the fleet's live Clusters it needs for removals are in the shards (and are let go of
    here, not kept for the whole run: 10,000 of them are a hundred megabytes)."""
    live = [cluster for shard in plane.shards for cluster in shard.clusters(FLEET_LABEL, plan.fleet)]
    return rollout.submit(plane.store, plan, allow_delete=allow_delete, live_clusters=live)


def run_until_settled(plane: ShardedPlane, key: ObjectKey) -> bool:
    """Move every process through virtual time until the rollout completes or halts; False when it got stuck."""
    deadline = plane.clock.now() + MAX_VIRTUAL_SECONDS
    approving = plane.approver.will_approve if plane.approver is not None else None
    until = SettledWatch(plane.store, key, approving=approving)
    try:
        with collector_paused():  # the simulation makes millions of short-lived acyclic dicts
            return _run(plane, until, deadline)
    finally:
        plane.store.unwatch_shared(until.on_event)


def _run(plane: ShardedPlane, until: SettledWatch, deadline: float) -> bool:
    queue, clock = plane.manager.queue, plane.clock
    while not until():
        moments = [due for due in (queue.next_due(), *plane._due) if due is not None]
        if not moments:
            return False
        now = min(moments)
        if now > deadline:
            clock.wait_until(deadline)
            return until()
        clock.wait_until(now)
        _advance_shards(plane, now)
        # One pass of the coordinator's, then the shards it wrote to run first: at one instant the rollout
        # controller runs after everything else, as in the single-process plane.
        due = queue.next_due()
        if due is not None and due <= now and not until():
            plane.manager.step()
        for index in plane.workloads.touched:
            plane._due[index] = now
        plane.workloads.touched.clear()
    return True


def _advance_shards(plane: ShardedPlane, now: float) -> None:
    """Run the shards with work due by ``now`` (in parallel: the children first, then this process's shard)."""
    due = [i for i, at in enumerate(plane._due) if at is not None and at <= now]
    for index in sorted(due, key=lambda i: i == 0):
        plane.shards[index].start_advance(now)
    for index in due:
        advanced = plane.shards[index].finish_advance()
        plane._due[index] = advanced.next_due
        plane._reconciles[index] = advanced.reconciles
        for rollout_key, name in advanced.changed:
            plane.workloads.mark_changed(rollout_key, name)


def snapshot(plane: ShardedPlane) -> list[list[Manifest]]:
    """Every object of the simulation, by process: the rollout's, then each shard's (a shared object in each)."""
    objects: list[Manifest] = plane.store.snapshot()["objects"]
    return [objects, *(shard.snapshot()["objects"] for shard in plane.shards)]
