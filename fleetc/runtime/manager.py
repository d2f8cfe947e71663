"""The controller runtime: level-triggered reconcilers, a work queue with per-key backoff, and a manager.

The contract is controller-runtime's: ``reconcile(request) -> Result(requeue_after)``; a request carries
only a key, so a reconciler always reads the current state and never acts on an event's content.
Errors are types: :class:`TerminalError` is not retried, :class:`TransientError` (or any other exception
from a simulated provider) is retried after a per-key exponential backoff.

The manager is single-threaded and deterministic: the next item is the one due earliest, and with a
:class:`~fleetc.runtime.clock.VirtualClock` time jumps to it. Items due at the same instant run lowest
``level`` first (a reconciler's optional class attribute, default 0), then in the order they were queued: a
controller of objects lower in the ownership tree (Machines) settles before the ones that summarise them
(MachineSets, then MachineDeployments, then the Cluster), so an owner reads its children once they are done
with the instant instead of once per intermediate step. Without levels the order is first queued, first run.

A reconcile that writes its own object queues itself again, as a watch on its own kind does in controller-runtime.
A reconciler that knows that pass would skip at once (:class:`AbsorbsOwnWrites`: its object is as it left it) has
it dropped when the reconcile ends; otherwise the pass is queued in the place the write took, so the order of
everything else is unchanged. Only writes delivered during the reconcile count: the in-memory store's.

It runs over any :class:`~fleetc.runtime.store.Store` and is driven by the store's watch events: before each
reconcile it has the store hand over pending events (:meth:`Store.wait`), and when nothing is due yet it waits on
events up to the next due time (real time), so an event from outside wakes it at once; a virtual clock jumps
instead. The in-memory store delivers events inside each write, so for it the loop is what it always was.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from fleetc.core.errors import TerminalError, TransientError
from fleetc.core.keys import Manifest, ObjectKey
from fleetc.runtime.clock import Clock
from fleetc.runtime.store import Event, Store

_new_tuple = tuple.__new__
"""Makes a named tuple from its fields without the Python-level ``__new__`` of a ``NamedTuple`` class call (keys and
requests are made on every event and reconcile)."""

BACKOFF_BASE = 1.0
BACKOFF_MAX = 300.0
STALE_ENTRIES_RATIO = 4
STALE_ENTRIES_MIN = 1024
"""The work queue's heap is rebuilt from its live entries once it holds more than ``RATIO`` × live + ``MIN``."""


class Request(NamedTuple):
    """Which object to reconcile (a named tuple: one is made per reconcile)."""

    key: ObjectKey


class Result(NamedTuple):
    """What a reconcile asks for: ``requeue_after`` seconds, or nothing more (until a watch fires)."""

    requeue_after: float | None = None


DONE = Result()


Mapper = Callable[[Manifest], Iterable[ObjectKey]]


@dataclass(frozen=True)
class Watch:
    """Events on objects of ``(group, kind)`` enqueue the keys ``mapper`` returns."""

    group: str
    kind: str
    mapper: Mapper


class Reconciler(Protocol):
    """One controller: the kind it owns, what else it watches, and its reconcile function."""

    name: str
    group: str
    kind: str

    def watches(self) -> list[Watch]:
        """Other kinds whose changes should reconcile objects of this kind."""
        ...

    def reconcile(self, request: Request) -> Result:
        """Make the world match the object's spec, once; idempotent."""
        ...


class AbsorbsOwnWrites(Protocol):
    """A reconciler that can tell, after a reconcile of ``key`` that wrote ``key``, that the pass its own write
    would queue has nothing to do (its object is settled: the same pass would only skip). The manager then does
    not queue that pass; any other change to the object, and any other watch, still queues as usual."""

    def absorbs_own_write(self, key: ObjectKey) -> bool:
        """True when a reconcile of ``key`` now would skip at once."""
        ...


def level_of(reconciler: Reconciler) -> int:
    """The reconciler's ``level`` (items due at one instant run lowest level first); 0 when it declares none."""
    level: int = getattr(reconciler, "level", 0)
    return level


def owner_of(kind: str) -> Mapper:
    """A mapper from an object to its controller owner of ``kind`` (like ``EnqueueRequestForOwner``)."""

    def mapper(obj: Manifest) -> list[ObjectKey]:
        namespace = obj["metadata"].get("namespace", "")
        return [
            _new_tuple(ObjectKey, (ref["apiVersion"].rpartition("/")[0], kind, namespace, ref["name"]))
            for ref in obj["metadata"].get("ownerReferences", [])
            if ref["kind"] == kind
        ]

    return mapper


_Entry = tuple[float, int, int, str, ObjectKey]
"""A queued item: (due time, level, place, controller, key); the heap orders items by the first three."""


@dataclass
class WorkQueue:
    """Keys due at a time; a key is queued at most once (earliest due wins); failures back off per key.

    Among keys due at the same time the lowest ``level`` comes first, then the first queued. A key queued again for
    an earlier time runs at that time, in the place that queuing took. The heap keeps the entries a key no longer
    holds until they surface; once they outnumber the live ones three to one it is rebuilt from the live ones (a
    long upgrade leaves tens of thousands of superseded timers behind, and every push and pop would climb past them).
    """

    _heap: list[_Entry] = field(default_factory=list)
    _due: dict[tuple[str, ObjectKey], _Entry] = field(default_factory=dict)
    """Each queued key's live entry: the one in the heap that runs it (any other entry of the key is skipped)."""
    _failures: dict[tuple[str, ObjectKey], int] = field(default_factory=dict)
    _order: itertools.count[int] = field(default_factory=itertools.count)

    def add(self, controller: str, key: ObjectKey, at: float, level: int = 0, order: int | None = None) -> None:
        """Queue ``key`` for ``controller`` at time ``at`` (keeps an earlier due time); ``order``: a place among
        items due at the same time taken earlier with :meth:`reserve` (default: after every item queued so far)."""
        slot = (controller, key)
        queued = self._due.get(slot)
        if queued is not None and queued[0] <= at:
            return
        entry = (at, level, next(self._order) if order is None else order, controller, key)
        self._due[slot] = entry
        heapq.heappush(self._heap, entry)
        if len(self._heap) > STALE_ENTRIES_RATIO * len(self._due) + STALE_ENTRIES_MIN:
            self._heap = list(self._due.values())
            heapq.heapify(self._heap)

    def reserve(self) -> int:
        """A place among items due at the same time, for an :meth:`add` decided later."""
        return next(self._order)

    def next_due(self) -> float | None:
        """When the next item is due, or None when empty."""
        heap, due = self._heap, self._due
        while heap:
            entry = heap[0]
            if due.get((entry[3], entry[4])) is entry:
                return entry[0]
            heapq.heappop(heap)
        return None

    def pop(self) -> tuple[str, ObjectKey]:
        """The earliest item (call :meth:`next_due` first)."""
        _, _, _, controller, key = heapq.heappop(self._heap)
        del self._due[(controller, key)]
        return controller, key

    def backoff(self, controller: str, key: ObjectKey) -> float:
        """The delay before retrying a failed key: 1 s, 2 s, 4 s … up to 5 minutes."""
        failures = self._failures.get((controller, key), 0)
        self._failures[(controller, key)] = failures + 1
        return float(min(BACKOFF_BASE * 2**failures, BACKOFF_MAX))

    def forget(self, controller: str, key: ObjectKey) -> None:
        """Reset a key's backoff after a success."""
        self._failures.pop((controller, key), None)

    def __len__(self) -> int:
        return len(self._due)

    @property
    def held(self) -> int:
        """How many entries the heap holds, live or superseded (what a push or pop climbs past)."""
        return len(self._heap)


@dataclass
class Stats:
    """What the manager did."""

    reconciles: int = 0
    errors: int = 0
    by_controller: dict[str, int] = field(default_factory=dict)


class Manager:
    """Runs reconcilers over a store until a condition holds or nothing is left to do."""

    def __init__(self, store: Store, clock: Clock, *, absorb_own_writes: bool = True) -> None:
        """``absorb_own_writes=False`` queues every pass a reconciler's own write calls for, even for reconcilers
        that would absorb it (:class:`AbsorbsOwnWrites`): the tests compare both ways."""
        self.store, self.clock = store, clock
        self._absorb_own_writes = absorb_own_writes
        self.queue = WorkQueue()
        self.stats = Stats()
        self._reconcilers: dict[str, Reconciler] = {}
        self._levels: dict[str, int] = {}
        self._routes: dict[tuple[str, str], list[tuple[str, Mapper | None, int]]] = {}
        """Per (group, kind): the controllers its events queue, through which mapper (None: the object's own key),
        at the controller's level."""
        self.errors: list[tuple[float, str, ObjectKey, str]] = []
        self._absorbing: dict[str, Callable[[ObjectKey], bool]] = {}
        """Reconcilers that absorb their own writes (:class:`AbsorbsOwnWrites`), by name."""
        self._running: tuple[str, ObjectKey] | None = None
        """The reconcile under way, when its reconciler absorbs its own writes."""
        self._own_write: int | None = None
        """The queue place its own write took, when it wrote its own object."""
        store.watch_shared(self._on_event)

    def add(self, reconciler: Reconciler) -> None:
        """Register a reconciler and its watches; existing objects of its kind are queued (unless the reconciler
        says ``queued_only = True``: its kind is not stored anywhere, only :meth:`enqueue` feeds it)."""
        self._reconcilers[reconciler.name] = reconciler
        self._levels[reconciler.name] = level_of(reconciler)
        level = self._levels[reconciler.name]
        absorbs = getattr(reconciler, "absorbs_own_write", None)
        if absorbs is not None and self._absorb_own_writes:
            self._absorbing[reconciler.name] = absorbs
        self._routes.setdefault((reconciler.group, reconciler.kind), []).append((reconciler.name, None, level))
        for watch in reconciler.watches():
            self._routes.setdefault((watch.group, watch.kind), []).append((reconciler.name, watch.mapper, level))
            self.store.inform(watch.group, watch.kind)
        if getattr(reconciler, "queued_only", False):
            return  # its keys name no stored kind: only enqueue() feeds it
        self.store.inform(reconciler.group, reconciler.kind)
        for obj in self.store.list(reconciler.group, reconciler.kind):
            self.enqueue(reconciler.name, ObjectKey.of(obj))

    def enqueue(self, controller: str, key: ObjectKey, after: float = 0.0) -> None:
        """Queue a key for a controller ``after`` seconds from now."""
        self.queue.add(controller, key, self.clock.now() + after, self._levels.get(controller, 0))

    def _on_event(self, event: Event) -> None:
        routes = self._routes.get((event.key.group, event.key.kind))
        if not routes:
            return
        now, add, running = self.clock.now(), self.queue.add, self._running
        for controller, mapper, level in routes:
            if mapper is None:
                if running is not None and running[0] == controller and running[1] == event.key:
                    if self._own_write is None:  # decided once the reconcile ends: see _run
                        self._own_write = self.queue.reserve()
                    continue
                add(controller, event.key, now, level)
                continue
            for key in mapper(event.object):
                add(controller, key, now, level)

    def step(self) -> bool:
        """Run the next due reconcile (waiting for it, or jumping to it); False when nothing is queued.

        While waiting, watch events are delivered; one that queues an earlier item makes that item the next."""
        self.store.wait(0)
        due = self.queue.next_due()
        while due is not None and due > self.clock.now() and self._wait_for_events(due):
            due = self.queue.next_due()
        if due is None:
            return False
        self.clock.wait_until(due)
        controller, key = self.queue.pop()
        self._run(controller, key)
        return True

    def _wait_for_events(self, moment: float) -> bool:
        """Wait for watch events until ``moment`` (no wait with virtual time); True when some were delivered."""
        delay = self.clock.real_delay(moment)
        return delay > 0 and self.store.wait(delay)

    def _run(self, controller: str, key: ObjectKey) -> None:
        self.stats.reconciles += 1
        self.stats.by_controller[controller] = self.stats.by_controller.get(controller, 0) + 1
        self._running = (controller, key) if controller in self._absorbing else None
        try:
            result = self._reconcilers[controller].reconcile(_new_tuple(Request, (key,)))
        except BaseException as exc:  # whatever it raised, the pass its own write calls for is kept
            self._requeue_own_write(controller, key, absorbed=False)
            if not isinstance(exc, Exception):
                raise  # an interrupt (Ctrl-C): the manager is left as it was, nothing marked running
            self._failed(controller, key, exc)
            return
        self._requeue_own_write(controller, key, absorbed=True)
        self.queue.forget(controller, key)
        if result.requeue_after is not None:
            self.enqueue(controller, key, result.requeue_after)

    def _failed(self, controller: str, key: ObjectKey, exc: Exception) -> None:
        """Record a failed reconcile and retry it, whatever it raised, unless it was a :class:`TerminalError`."""
        self._record(controller, key, exc)
        if isinstance(exc, TerminalError):
            return
        delay = exc.delay if isinstance(exc, TransientError) and exc.delay is not None else None
        self.enqueue(controller, key, delay if delay is not None else self.queue.backoff(controller, key))

    def _requeue_own_write(self, controller: str, key: ObjectKey, *, absorbed: bool) -> None:
        """After a reconcile that wrote its own object: queue the pass that write calls for (in the place the
        write took), unless the reconciler absorbs it (a finished reconcile whose object is settled)."""
        self._running, place = None, self._own_write
        if place is None:
            return
        self._own_write = None
        if absorbed and self._absorbing[controller](key):
            return
        self.queue.add(controller, key, self.clock.now(), self._levels.get(controller, 0), order=place)

    def _record(self, controller: str, key: ObjectKey, exc: Exception) -> None:
        self.stats.errors += 1
        self.errors.append((self.clock.now(), controller, key, f"{type(exc).__name__}: {exc}"))

    def run(self, until: Callable[[], bool], *, deadline: float | None = None, max_steps: int | None = None) -> bool:
        """Reconcile until ``until()`` holds (True), or the queue empties, the deadline passes or steps run out.

        With a deadline, an empty queue waits for watch events until the deadline (a store fed from outside may
        still bring work); without one, an empty queue ends the run."""
        steps = 0
        while not until():
            self.store.wait(0)
            due = self.queue.next_due()
            if due is None or (deadline is not None and due > deadline):
                if deadline is not None and self._wait_for_events(deadline):
                    continue
                if deadline is not None:
                    self.clock.wait_until(deadline)
                return until()
            if max_steps is not None and steps >= max_steps:
                return False
            if due > self.clock.now() and self._wait_for_events(due):
                continue
            self.clock.wait_until(due)
            controller, key = self.queue.pop()
            self._run(controller, key)
            steps += 1
        return True
