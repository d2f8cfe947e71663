"""The embedded management plane on a laptop: store + clock + simulated CAPI + rollout controller.

Callers: ``fleetc apply --local``, ``fleetc simulate``, ``fleetc rollout …`` and ``fleetc status``. The state
(every object, the clock and the seed) can live in a JSON file, so a later command — or a run after a kill —
continues where the last one stopped. Faults are not part of the state: each command says which faults it
simulates, so "fixing the fault" is running again without it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fleetc import rollout
from fleetc.core.errors import NoRolloutError, StuckError
from fleetc.core.keys import ObjectKey
from fleetc.load.loader import collector_paused
from fleetc.rollout import RolloutPlan, RolloutView
from fleetc.runtime.clock import EPOCH, Clock, RealClock, VirtualClock
from fleetc.runtime.manager import Manager
from fleetc.runtime.store import Event, MemoryStore, load_state, save_state
from fleetc.sim.inmemory import Faults, InMemoryProvider
from fleetc.sim.plane import apply_objects, install

STATE_VERSION = 1
MAX_VIRTUAL_SECONDS = 90 * 86400
"""A simulated rollout that has not settled after 90 days of virtual time is stuck."""


@dataclass
class LocalPlane:
    """A running embedded management plane."""

    store: MemoryStore
    clock: Clock
    manager: Manager
    seed: int
    state: Path | None

    def save(self) -> None:
        """Persist every object, the clock and the seed (atomically)."""
        if self.state is not None:
            payload = {
                "version": STATE_VERSION,
                "clock": self.clock.now(),
                "seed": self.seed,
                "store": self.store.snapshot(),
            }
            save_state(self.state, payload)


def open_plane(
    *,
    state: Path | None = None,
    faults: Faults | None = None,
    seed: int | None = None,
    speed: float | None = None,
    controllers: bool = True,
) -> LocalPlane:
    """The plane from its state file (or a new one): virtual time, or real time × ``speed``."""
    payload: dict[str, Any] | None = load_state(state) if state is not None else None
    start = float(payload["clock"]) if payload else EPOCH
    chosen_seed = seed if seed is not None else int(payload["seed"]) if payload else 0
    clock: Clock = VirtualClock(start) if speed is None else RealClock(speed, start=start)
    store = MemoryStore(clock)
    if payload:
        store.restore(payload["store"])
    manager = Manager(store, clock)
    if controllers:
        provider = InMemoryProvider(seed=chosen_seed, faults=faults or Faults(), start=start)
        install(manager, provider, seed=chosen_seed)
        rollout.install(manager, lambda manifest: _apply(store, manifest))
    return LocalPlane(store, clock, manager, chosen_seed, state)


def _apply(store: MemoryStore, manifest: dict[str, Any]) -> None:
    apply_objects(store, [manifest])


class _Settled:
    """``rollout.settled`` re-read only after the FleetRollout changed (the manager asks before every reconcile,
    and reading the rollout copies it: that was a quarter of a simulation's time)."""

    def __init__(self, store: MemoryStore, key: ObjectKey) -> None:
        self.store, self.key = store, key
        self.changed, self.value = True, False
        store.watch_shared(self._on_event)

    def _on_event(self, event: Event) -> None:
        if event.key == self.key:
            self.changed = True

    def __call__(self) -> bool:
        if self.changed:
            self.value, self.changed = rollout.settled(self.store, self.key), False
        return self.value


def run_until_settled(plane: LocalPlane, key: ObjectKey, *, on_step: Callable[[], None] | None = None) -> bool:
    """Reconcile until the rollout completes or halts; False when it got stuck (nothing left to do)."""
    deadline = plane.clock.now() + MAX_VIRTUAL_SECONDS
    done = False
    until = _Settled(plane.store, key)
    with collector_paused():  # the simulation makes millions of short-lived acyclic dicts; see bench/simulate_bench.py
        while not done:
            done = _run_some(plane, until, deadline, on_step)
            if not done and (plane.manager.queue.next_due() is None or plane.clock.now() >= deadline):
                return False
    return True


def _run_some(plane: LocalPlane, until: _Settled, deadline: float, on_step: Callable[[], None] | None) -> bool:
    """Up to 500 reconciles, then a progress callback; True once the rollout settled."""
    done = plane.manager.run(until, deadline=deadline, max_steps=500)
    if on_step is not None:
        on_step()
    return done


def roll_out(
    plane: LocalPlane,
    plan: RolloutPlan,
    *,
    on_step: Callable[[], None] | None = None,
    allow_delete: bool = False,
) -> RolloutView:
    """Submit a rollout of a compiled revision and run it until it completes or halts.

    ``allow_delete``: clusters marked for decommissioning that left the spec may be deleted
    (:mod:`fleetc.rollout.removal`); without it such a revision is refused before anything is written.
    """
    key = rollout.submit(plane.store, plan, allow_delete=allow_delete)
    settled = run_until_settled(plane, key, on_step=on_step)
    plane.save()
    return view_of(plane, key, settled)


def view_of(plane: LocalPlane, key: ObjectKey, settled: bool = True) -> RolloutView:
    """The rollout's view (raises :class:`NoRolloutError` when there is none)."""
    view = rollout.read_rollout(plane.store, key)
    if view is None:
        raise NoRolloutError(f"no rollout {key.namespace}/{key.name} in this state")
    if not settled and not view.halted:
        raise StuckError(f"rollout {view.name} stopped progressing in phase {view.phase} (wave {view.wave})")
    return view


def only_rollout(plane: LocalPlane) -> ObjectKey:
    """The key of the one FleetRollout in the state."""
    found = plane.store.list(rollout.rollout_key("x", "x").group, rollout.rollout_key("x", "x").kind)
    if not found:
        raise NoRolloutError("no rollout in this state yet: run fleetc apply --local first")
    if len(found) > 1:
        names = ", ".join(f["metadata"]["name"] for f in found)
        raise NoRolloutError(f"several rollouts in this state ({names})")
    return ObjectKey.of(found[0])
