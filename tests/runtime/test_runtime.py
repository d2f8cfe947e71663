"""The runtime: level-triggered reconciles, a de-duplicating queue with backoff, virtual time."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from fleetc.core.errors import TerminalError, TransientError
from fleetc.core.keys import ObjectKey
from fleetc.runtime.clock import EPOCH, VirtualClock
from fleetc.runtime.manager import (
    DONE,
    STALE_ENTRIES_MIN,
    STALE_ENTRIES_RATIO,
    Manager,
    Request,
    Result,
    Watch,
    WorkQueue,
    owner_of,
)
from fleetc.runtime.memory import MemoryStore

GROUP = "example.io"


def thing(name: str, **extra: Any) -> dict[str, Any]:
    return {"apiVersion": f"{GROUP}/v1", "kind": "Thing", "metadata": {"name": name, "namespace": "ns", **extra}}


@dataclass
class Recorder:
    """A reconciler that records when it ran and answers with a scripted result."""

    clock: VirtualClock
    results: list[Result | BaseException] = field(default_factory=list)
    calls: list[tuple[float, str]] = field(default_factory=list)
    name: str = "recorder"
    group: str = GROUP
    kind: str = "Thing"
    extra_watches: list[Watch] = field(default_factory=list)

    def watches(self) -> list[Watch]:
        return self.extra_watches

    def reconcile(self, request: Request) -> Result:
        self.calls.append((self.clock.now() - EPOCH, request.key.name))
        outcome = self.results.pop(0) if self.results else DONE
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


def setup(*results: Result | Exception) -> tuple[MemoryStore, Manager, Recorder, VirtualClock]:
    clock = VirtualClock()
    store = MemoryStore(clock)
    manager = Manager(store, clock)
    recorder = Recorder(clock, list(results))
    manager.add(recorder)
    return store, manager, recorder, clock


def test_a_change_reconciles_once_even_when_written_many_times() -> None:
    store, manager, recorder, _ = setup()
    obj = store.create(thing("a"))
    for label in range(5):
        obj["metadata"]["labels"] = {"n": str(label)}
        obj = store.update(obj)
    manager.run(lambda: False)
    assert recorder.calls == [(0.0, "a")]


def test_requeue_after_runs_later_in_virtual_time() -> None:
    store, manager, recorder, clock = setup(Result(requeue_after=3600), DONE)
    store.create(thing("a"))
    manager.run(lambda: False)
    assert recorder.calls == [(0.0, "a"), (3600.0, "a")]
    assert clock.now() - EPOCH == 3600


def test_errors_back_off_exponentially_then_reset() -> None:
    boom = RuntimeError("provider API unavailable")
    store, manager, recorder, _ = setup(boom, boom, boom, DONE)
    store.create(thing("a"))
    manager.run(lambda: False)
    assert [t for t, _ in recorder.calls] == [0.0, 1.0, 3.0, 7.0]
    assert manager.stats.errors == 3 and "provider API unavailable" in manager.errors[0][3]


def test_transient_errors_wait_their_delay_and_terminal_errors_stop() -> None:
    store, manager, recorder, _ = setup(TransientError("later", delay=30), TerminalError("never"))
    store.create(thing("a"))
    manager.run(lambda: False)
    assert [t for t, _ in recorder.calls] == [0.0, 30.0]


def test_watches_map_other_kinds_to_their_owner() -> None:
    clock = VirtualClock()
    store = MemoryStore(clock)
    manager = Manager(store, clock)
    recorder = Recorder(clock, extra_watches=[Watch(GROUP, "Part", owner_of("Thing"))])
    manager.add(recorder)
    owner = store.create(thing("a"))
    manager.run(lambda: False)
    part = thing("p")
    part["kind"] = "Part"
    part["metadata"]["ownerReferences"] = [
        {"apiVersion": f"{GROUP}/v1", "kind": "Thing", "name": "a", "uid": owner["metadata"]["uid"]}
    ]
    store.create(part)
    manager.run(lambda: False)
    assert [name for _, name in recorder.calls] == ["a", "a"]


def test_run_stops_when_the_condition_holds_or_the_deadline_passes() -> None:
    store, manager, recorder, clock = setup(*[Result(requeue_after=60)] * 100)
    store.create(thing("a"))
    assert manager.run(lambda: len(recorder.calls) >= 3)
    assert len(recorder.calls) == 3
    assert not manager.run(lambda: False, deadline=clock.now() + 600)
    assert clock.now() - EPOCH == 120 + 600


def test_the_queue_keeps_the_earliest_due_time_per_key() -> None:
    queue = WorkQueue()
    key = ObjectKey(GROUP, "Thing", "ns", "a")
    queue.add("c", key, 10.0)
    queue.add("c", key, 5.0)
    queue.add("c", key, 20.0)
    assert len(queue) == 1 and queue.next_due() == 5.0
    assert queue.pop() == ("c", key) and queue.next_due() is None


def drain(queue: WorkQueue) -> list[tuple[float, str]]:
    """Everything queued, in the order it runs: (due time, key name)."""
    order: list[tuple[float, str]] = []
    while (due := queue.next_due()) is not None:
        order.append((due, queue.pop()[1].name))
    return order


def test_a_key_queued_again_runs_in_the_place_of_its_last_queuing() -> None:
    # "a" waits for t=10, is queued earlier (t=5) and runs; "b" is queued for t=10; then "a" again for t=10. The
    # first entry of "a" at t=10 is superseded: "a" runs after "b", where it was queued last, not in its old place.
    queue = WorkQueue()
    a, b = (ObjectKey(GROUP, "Thing", "ns", name) for name in ("a", "b"))
    queue.add("c", a, 10.0)
    queue.add("c", a, 5.0)
    assert queue.next_due() == 5.0 and queue.pop() == ("c", a)
    queue.add("c", b, 10.0)
    queue.add("c", a, 10.0)
    assert drain(queue) == [(10.0, "b"), (10.0, "a")]


def test_superseded_entries_do_not_pile_up_and_the_order_is_kept() -> None:
    # Every key is queued ten times, each time earlier than the last: nine entries in ten are superseded. The heap is
    # rebuilt from the live entries once superseded ones outnumber them, which must not change the order keys run in.
    queue = WorkQueue()
    keys = [ObjectKey(GROUP, "Thing", "ns", f"k{index:05d}") for index in range(2000)]
    for index, key in enumerate(keys):
        for earlier in range(9, -1, -1):
            queue.add("c", key, float(index % 7 + 100 * earlier), level=index % 3)
    assert len(queue) == 2000
    assert queue.held <= STALE_ENTRIES_RATIO * len(queue) + STALE_ENTRIES_MIN < 10 * len(queue)
    expected = sorted(((float(i % 7), i % 3, i), f"k{i:05d}") for i in range(2000))
    assert drain(queue) == [(due, name) for (due, _, _), name in expected]


def test_equal_inputs_give_equal_schedules() -> None:
    def schedule() -> list[tuple[float, str]]:
        store, manager, recorder, _ = setup(*[Result(requeue_after=7)] * 5)
        for name in ("b", "a", "c"):
            store.create(thing(name))
        manager.run(lambda: False)
        return recorder.calls

    assert schedule() == schedule()


@dataclass
class SelfWriter(Recorder):
    """Writes its own object's status on every pass; absorbs the pass that write queues when told it may."""

    store: MemoryStore | None = None
    absorbs: bool = True

    def reconcile(self, request: Request) -> Result:
        assert self.store is not None
        current = self.store.get(request.key)
        self.store.update_status({**current, "status": {"passes": len(self.calls) + 1}})
        return super().reconcile(request)

    def absorbs_own_write(self, key: ObjectKey) -> bool:
        return self.absorbs


def self_writer(
    *results: Result | BaseException, absorbs: bool = True, absorb_own_writes: bool = True
) -> tuple[MemoryStore, Manager, SelfWriter]:
    clock = VirtualClock()
    store = MemoryStore(clock)
    manager = Manager(store, clock, absorb_own_writes=absorb_own_writes)
    writer = SelfWriter(clock, list(results), store=store, absorbs=absorbs)
    manager.add(writer)
    return store, manager, writer


def test_a_pass_queued_by_the_reconcilers_own_write_is_dropped_when_it_absorbs_it() -> None:
    store, manager, writer = self_writer(Result(requeue_after=60))
    store.create(thing("a"))
    manager.run(lambda: False, max_steps=10)
    assert writer.calls == [(0.0, "a"), (60.0, "a")]  # not again at 0: its write was absorbed; the requeue holds

    store, manager, writer = self_writer(absorbs=False)
    store.create(thing("a"))
    manager.run(lambda: False, max_steps=3)
    assert writer.calls == [(0.0, "a")] * 3  # it does not absorb: each write queues another pass

    store, manager, writer = self_writer(absorb_own_writes=False)
    store.create(thing("a"))
    manager.run(lambda: False, max_steps=3)
    assert writer.calls == [(0.0, "a")] * 3  # the manager told not to absorb


def test_a_write_by_anyone_else_still_queues_a_reconciler_that_absorbs_its_own() -> None:
    store, manager, writer = self_writer()
    obj = store.create(thing("a"))
    manager.run(lambda: False)
    assert writer.calls == [(0.0, "a")]
    store.update({**store.get(ObjectKey.of(obj)), "spec": {"size": 2}})
    manager.run(lambda: False)
    assert writer.calls == [(0.0, "a"), (0.0, "a")]


def test_an_interrupted_reconcile_keeps_its_own_writes_pass_and_leaves_no_reconcile_marked_running() -> None:
    store, manager, writer = self_writer(KeyboardInterrupt())
    obj = store.create(thing("a"))
    with pytest.raises(KeyboardInterrupt):
        manager.run(lambda: False)
    manager.run(lambda: False, max_steps=1)
    assert writer.calls == [(0.0, "a"), (0.0, "a")]  # the write before the interrupt still calls for a pass
    store.update({**store.get(ObjectKey.of(obj)), "spec": {"size": 2}})  # not its own write: it must queue a pass
    manager.run(lambda: False)
    assert writer.calls == [(0.0, "a")] * 3


def test_a_failed_reconcile_keeps_the_pass_its_own_write_queued() -> None:
    store, manager, writer = self_writer(TransientError("provider API unavailable", delay=30))
    store.create(thing("a"))
    manager.run(lambda: False, max_steps=2)
    assert writer.calls == [(0.0, "a"), (0.0, "a")]  # again at once (its write), not after the 30 s delay
