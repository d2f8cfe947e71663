"""The rollout controller: moves a fleet to a compiled revision wave by wave, and halts when clusters fail.

Level-triggered reconciler of ``FleetRollout`` objects (runtime contract: :mod:`fleetc.runtime.manager`). Each
reconcile reads the rollout, its ClusterRollouts and the workload clusters' CAPI objects from an informer cache
(:mod:`fleetc.rollout.cache`) into a :class:`~fleetc.rollout.scope.Scope`, then runs small stages in order:

1. :mod:`~fleetc.rollout.reconcile_revision`: a new ``spec.revision`` restarts the rollout and applies the
   revision's namespaces and class revisions first; a new ``fleetc.io/retry`` annotation (``resume``) puts the
   failed clusters of the current wave back to pending and lifts a halt;
2. :mod:`~fleetc.rollout.reconcile_clusters`: clusters in flight (and of a soaking wave) are judged by the health
   gate; a control plane not healthy by the wave's deadline fails its cluster, and so does a cluster that stops
   progressing (workers included), so every rollout ends complete or halted;
3. :mod:`~fleetc.rollout.reconcile_waves`: over the failure budget → ``Halted``; a finished wave soaks, then the
   next starts; pending clusters start up to ``maxConcurrent``; the status is saved when it changed.
The wave rules (concurrency, soak, failure budget, control-plane deadline) are gate objects
(:mod:`fleetc.rollout.wavegates`) the stages consult. Deadlines and soaks requeue with ``requeue_after``; a change
to a watched cluster's objects enqueues the rollout only when that cluster's verdict changes (checked by a small
companion reconciler, :class:`VerdictChecks`, at most once per cluster per instant). Every time written comes from
the clock, so virtual-time runs are reproducible.
Callers: the CLI (``fleetc apply``/``simulate`` through :func:`install`) and tests.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from fleetc.core.keys import ObjectKey
from fleetc.rollout.applying import Apply, store_applier
from fleetc.rollout.cache import ClusterId, Informer
from fleetc.rollout.model import FLEET_ROLLOUT, GROUP
from fleetc.rollout.reconcile_clusters import observe
from fleetc.rollout.reconcile_revision import prerequisites, retry_failed, track_revision
from fleetc.rollout.reconcile_waves import advance, judge, save, start
from fleetc.rollout.scope import Run, Scope
from fleetc.rollout.watching import Watchlist
from fleetc.rollout.workloads import LocalWorkloads, Workloads
from fleetc.runtime.clock import Clock
from fleetc.runtime.manager import DONE, Manager, Request, Result, Watch
from fleetc.runtime.store import Store

NAME = "fleetrollout"
CHECKS = "fleetrollout-verdicts"
VERDICT_KIND = "ClusterVerdict"
"""The kind of the keys :class:`VerdictChecks` is queued with (no object of this kind exists)."""
CHECK_DELAY = 0.5
"""How long after a change a cluster's verdict is checked (seconds). CAPI writes to one cluster in bursts: the
objects that changed, then half a second later the Cluster's summary of them (the simulated topology controller
coalesces by the same delay, :data:`fleetc.sim.context.COALESCE_DELAY`); one check after both costs one gate
evaluation instead of two, and a gate reacts at most half a second later."""
WAIT_SECONDS = 5.0
"""How long to wait for objects a rollout needs that are not in the store yet (its FleetRevision, ClusterRollouts)."""
RESYNC_SECONDS = 30.0
"""On a management cluster: how often a rollout re-judges every cluster it has in flight, whatever its memory says
(:class:`RolloutController` ``resync``)."""


class RolloutController:
    """Reconciles ``FleetRollout`` objects (see the module docstring for the stages)."""

    name = NAME
    level = 6
    """After the verdict checks: a rollout acts on what the clusters' verdicts say at this instant."""
    group = GROUP
    kind = FLEET_ROLLOUT

    def __init__(
        self,
        store: Store,
        clock: Clock,
        apply: Apply,
        enqueue: Callable[[ObjectKey], None] | None = None,
        schedule: Callable[[ClusterId], None] | None = None,
        resync: float | None = None,
        only: ObjectKey | None = None,
        defer: Callable[[ObjectKey], float | None] | None = None,
        workloads: Callable[[Watchlist], Workloads] | None = None,
    ) -> None:
        """``enqueue`` queues a rollout; ``schedule`` queues a verdict check (default: check at once). ``resync``
        (seconds): also re-judge every cluster in flight that often, as after a restart. Against an API server, a
        change can reach the controller's memory without waking it (events arrive on other threads, between its
        passes), and a cluster that became healthy would then stay in flight for ever; the embedded plane delivers
        every event inside the write and needs none. ``only``: reconcile this FleetRollout and leave every other one
        alone (``fleetc apply``/``rollout resume`` on a management cluster drive the rollout they were asked for;
        another fleet's belongs to its own command or to the in-cluster controller). ``defer``: for a rollout another
        process carries out, the seconds until asking again (None: carry it out here); the in-cluster controller defers
        to a pipeline's ``fleetc apply`` this way (:mod:`fleetc.engine.runner`). ``workloads``: where the workload
        clusters are, given the controller's watch list (default: in this process's store, :class:`LocalWorkloads`;
        the sharded simulation's are in other processes)."""
        self._store, self._clock = store, clock
        self._resync = resync
        self._only = only
        self._defer = defer
        self._full_pass: dict[ObjectKey, float] = {}
        self.informer = Informer(store, self._on_workload_change)
        self._watch = Watchlist(self.informer.workloads.objects, enqueue or (lambda key: None), schedule, clock.now)
        self.checks = VerdictChecks(self._watch)
        self.workloads: Workloads = (
            workloads(self._watch)
            if workloads is not None
            else LocalWorkloads(self._watch, self.informer.workloads, apply, store)
        )

    def _on_workload_change(self, cluster: ClusterId) -> None:
        self._watch.on_change(cluster)

    def watches(self) -> list[Watch]:
        """None through the manager: the informer watches CAPI objects (with deletions) and enqueues rollouts."""
        return []

    def reconcile(self, request: Request) -> Result:
        if self._only is not None and request.key != self._only:
            return DONE
        if self._defer is not None and (wait := self._defer(request.key)) is not None:
            self._watch.synced.discard(request.key)  # once it is ours, the first pass judges every cluster in flight
            return Result(requeue_after=wait)
        try:
            return self._reconcile(request)
        except Exception:
            # The pass had taken its changed clusters and its due deadlines; its retry (the manager backs off and
            # requeues) would not judge them again and they would wait, in flight, for a change or a deadline that
            # already came. The retry judges every cluster in flight instead, as after a restart.
            self._watch.synced.discard(request.key)
            raise

    def _reconcile(self, request: Request) -> Result:
        rollout = self._store.find(request.key)
        if rollout is None or rollout["metadata"].get("deletionTimestamp"):
            self.workloads.forget(request.key)
            return DONE
        run = Run.begin(rollout, self._clock.now())
        if self._resync is not None and run.now >= self._full_pass.get(request.key, -math.inf) + self._resync:
            self._watch.synced.discard(request.key)  # this pass judges every cluster in flight (:func:`observe`)
            self._full_pass[request.key] = run.now
        scope = Scope(run, self._store, self.informer, self._watch, self.workloads)
        if not (track_revision(scope) and prerequisites(scope)):
            save(scope)
            return Result(requeue_after=WAIT_SECONDS)
        retry_failed(scope)
        observe(scope)
        judge(scope)
        advance(scope)
        start(scope)
        judge(scope)
        save(scope)
        return Result(requeue_after=self._next_pass(run))

    def _next_pass(self, run: Run) -> float | None:
        """When to reconcile again unasked: the earliest wake-up the stages asked for, and with ``resync`` no later
        than the next full pass while the rollout is not complete."""
        wakeup = run.wakeup()
        if self._resync is None or run.status.completed_at is not None:
            return wakeup
        return self._resync if wakeup is None else min(wakeup, self._resync)


class VerdictChecks:
    """The companion reconciler: checks one watched cluster's verdict and enqueues its rollout when it changed.

    Queued by the informer with keys of kind ``ClusterVerdict`` (namespace and name of the workload cluster) a moment
    after a change, so a burst of writes to one cluster costs one gate evaluation.
    """

    name = CHECKS
    level = 5
    """After CAPI's controllers (simulated or not) have written what they write at this instant."""
    group = GROUP
    kind = VERDICT_KIND
    queued_only = True
    """No object of its kind exists: the manager neither lists nor informs it (an API server would not serve it)."""

    def __init__(self, watch: Watchlist) -> None:
        self._watch = watch

    def watches(self) -> list[Watch]:
        """None: the rollout controller's informer queues the checks."""
        return []

    def reconcile(self, request: Request) -> Result:
        self._watch.check((request.key.namespace, request.key.name))
        return DONE


def install(
    manager: Manager,
    apply: Apply | None = None,
    *,
    resync: float | None = None,
    only: ObjectKey | None = None,
    defer: Callable[[ObjectKey], float | None] | None = None,
) -> RolloutController:
    """A rollout controller on ``manager``, applying through ``apply`` (default: straight into the manager's store);
    ``resync``, ``only`` and ``defer``: see :class:`RolloutController` (:data:`RESYNC_SECONDS` against an API
    server)."""
    controller = RolloutController(
        manager.store,
        manager.clock,
        apply or store_applier(manager.store),
        enqueue=lambda key: manager.enqueue(NAME, key),
        schedule=check_scheduler(manager),
        resync=resync,
        only=only,
        defer=defer,
    )
    manager.add(controller)
    manager.add(controller.checks)
    return controller


def check_scheduler(manager: Manager) -> Callable[[ClusterId], None]:
    """Queues :class:`VerdictChecks` of a cluster on ``manager``, :data:`CHECK_DELAY` from now."""
    return lambda cluster: manager.enqueue(CHECKS, ObjectKey(GROUP, VERDICT_KIND, *cluster), CHECK_DELAY)
