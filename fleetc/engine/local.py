"""The embedded management plane on a laptop: store + clock + simulated CAPI + rollout controller.

Callers: ``fleetc apply --local``, ``fleetc simulate``, ``fleetc rollout …`` and ``fleetc status``. The state
(every object, the clock and the seed) can live in a JSON file, so a later command — or a run after a kill —
continues where the last one stopped. Faults are not part of the state: each command says which faults it
simulates, so "fixing the fault" is running again without it.

Steering a running ``apply --local`` from another process (``fleetc rollout pause|resume|approve``): the state file
stays the one source of truth, guarded by a lock file (``<state>.lock``, ``flock``). A steering command edits the
FleetRollout in the file under the lock (:func:`steer`); the running process, which saves the file every step
(:meth:`LocalPlane.save`), first re-reads it under the same lock when someone else wrote it and takes over the
FleetRollout's steering fields (``spec.paused``, ``spec.approvals``, the retry annotation) before writing its own
state. A second lock
(``<state>.run.lock``), held for a running process's whole life (:func:`running`), tells ``resume`` whether to
hand the work to that process or to run the rollout itself. Why not a control file: a pause must also hold for a
state nobody is running, and a later run must see it; one file with a lock keeps a single truth for both.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from fleetc import rollout
from fleetc.core.errors import FaultsError, NoRolloutError, TargetWriteError
from fleetc.core.keys import Manifest, ObjectKey
from fleetc.engine import sim_approvals
from fleetc.engine.notify import Notifier, env_resolver
from fleetc.engine.sim_approvals import Approvals, SimulatedApprover
from fleetc.load.loader import collector_paused
from fleetc.rollout import RolloutPlan, RolloutView
from fleetc.rollout.model import RETRY_ANNOTATION
from fleetc.runtime.clock import EPOCH, Clock, RealClock, VirtualClock
from fleetc.runtime.manager import Manager
from fleetc.runtime.memory import MemoryStore, load_state, save_state
from fleetc.runtime.store import Event
from fleetc.sim.faults import Faults, FleetShape, unmatched_faults
from fleetc.sim.inmemory import InMemoryProvider
from fleetc.sim.plane import apply_objects, install, use_faults

STATE_VERSION = 1
MAX_VIRTUAL_SECONDS = 90 * 86400
"""A simulated rollout that has not settled after 90 days of virtual time is stuck."""
STEER_SECONDS = 0.5
"""In real time, how often (real seconds) a running rollout saves its state and picks up pause/resume."""


@dataclass
class LocalPlane:
    """A running embedded management plane."""

    store: MemoryStore
    clock: Clock
    manager: Manager
    seed: int
    state: Path | None
    provider: InMemoryProvider | None = None
    speed: float | None = None
    """Simulated seconds per real second; None in virtual time."""
    approver: SimulatedApprover | None = None
    """In a simulation: who approves waves that require approval (:mod:`fleetc.engine.sim_approvals`)."""
    notifier: Notifier | None = None
    """Sends the rollout's notifications (``apply --local``; receiver URLs from env): :mod:`fleetc.engine.notify`."""
    _written: tuple[int, int] | None = field(default=None, repr=False)

    def save(self) -> None:
        """Persist every object, the clock and the seed (atomically), first taking over a pause or resume another
        process wrote to the state file since this one last saved it."""
        if self.state is None:
            return
        with state_lock(self.state):
            if self._written is not None and _stamp(self.state) != self._written:
                self._take_steering()
            payload = {
                "version": STATE_VERSION,
                "clock": self.clock.now(),
                "seed": self.seed,
                "store": self.store.snapshot(),
            }
            save_state(self.state, payload)
            self._written = _stamp(self.state)

    def _take_steering(self) -> None:
        assert self.state is not None
        payload = load_state(self.state)
        if payload is None:
            return
        other = MemoryStore(VirtualClock())
        other.restore(payload["store"])
        for theirs in other.list(rollout.rollout_key("x", "x").group, rollout.rollout_key("x", "x").kind):
            mine = self.store.find(ObjectKey.of(theirs))
            if mine is not None:
                steered = _steered(mine, theirs)
                if steered is not None:
                    self.store.update(steered)


def _steered(mine: Manifest, theirs: Manifest) -> Manifest | None:
    """``mine`` with the steering fields of ``theirs`` (pause, retry token, approvals), or None when they agree."""
    paused = bool(theirs["spec"].get("paused", False))
    approvals = theirs["spec"].get("approvals") or mine["spec"].get("approvals")
    token = theirs["metadata"].get("annotations", {}).get(RETRY_ANNOTATION)
    annotations = dict(mine["metadata"].get("annotations", {}))
    if token is not None:
        annotations[RETRY_ANNOTATION] = token
    spec = {**mine["spec"], "paused": paused, **({"approvals": approvals} if approvals else {})}
    if spec == mine["spec"] and annotations == mine["metadata"].get("annotations", {}):
        return None
    return {**mine, "metadata": {**mine["metadata"], "annotations": annotations}, "spec": spec}


def _stamp(path: Path) -> tuple[int, int]:
    """Which version of the file this is (each save replaces it with a new file)."""
    found = path.stat()
    return found.st_ino, found.st_mtime_ns


def _lock_path(state: Path, suffix: str) -> Path:
    return state.with_name(f".{state.name}.{suffix}")


@contextlib.contextmanager
def state_lock(state: Path) -> Iterator[None]:
    """The state file's lock: one reader-modifier-writer at a time."""
    with _locked(_lock_path(state, "lock"), blocking=True):
        yield


@contextlib.contextmanager
def _locked(path: Path, *, blocking: bool) -> Iterator[IO[str] | None]:
    """An exclusive ``flock`` on ``path``; without ``blocking``, None when another process holds it."""
    try:
        handle = path.open("a")
    except OSError as exc:
        raise TargetWriteError(f"{path}: cannot open the lock file ({exc.strerror or exc})") from exc
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            yield None
            return
        try:
            yield handle
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def running(plane: LocalPlane) -> Iterator[None]:
    """Mark the state as being run by this process (for :func:`steer`); NoRolloutError when another runs it."""
    if plane.state is None:
        yield
        return
    with _locked(_lock_path(plane.state, "run.lock"), blocking=False) as held:
        if held is None:
            raise NoRolloutError(f"{plane.state}: another fleetc process is running this state")
        held.seek(0)
        held.truncate()
        held.write(str(os.getpid()))
        held.flush()
        yield


def is_running(state: Path) -> bool:
    """True while a fleetc process runs this state (holds its run lock; see :func:`running`)."""
    with _locked(_lock_path(state, "run.lock"), blocking=False) as free:
        return free is None


def steer(state: Path, change: Callable[[MemoryStore, ObjectKey], None], *, only_if_running: bool = False) -> bool:
    """Change the rollout in the state file under its lock (pause, resume); a running process picks it up.

    With ``only_if_running``, nothing is changed (False) unless a process is running the state."""
    with state_lock(state):
        if only_if_running:
            with _locked(_lock_path(state, "run.lock"), blocking=False) as free:
                if free is not None:
                    return False
        plane = open_plane(state=state, controllers=False)
        change(plane.store, only_rollout(plane))
        _write(state, plane)
    return True


def approve(state: Path, wave: str, by: str) -> tuple[rollout.Approval, bool]:
    """Record ``by``'s approval of ``wave`` in the state file, at the state's clock (``fleetc rollout approve``);
    the approval and whether a process is running the state (it picks the approval up)."""
    with state_lock(state):
        with _locked(_lock_path(state, "run.lock"), blocking=False) as free:
            running = free is None
        plane = open_plane(state=state, controllers=False)
        approval = rollout.approve(plane.store, only_rollout(plane), wave, by=by, at=plane.clock.now())
        _write(state, plane)
    return approval, running


def _write(state: Path, plane: LocalPlane) -> None:
    payload = {"version": STATE_VERSION, "clock": plane.clock.now(), "seed": plane.seed,
               "store": plane.store.snapshot()}  # fmt: skip
    save_state(state, payload)


def open_plane(
    *,
    state: Path | None = None,
    faults: Faults | None = None,
    seed: int | None = None,
    speed: float | None = None,
    controllers: bool = True,
    approvals: Approvals | None = None,
    notify: bool = False,
) -> LocalPlane:
    """The plane from its state file (or a new one): virtual time, or real time × ``speed``; with ``approvals``, a
    simulated approver approves waves that require it (``fleetc simulate``); with ``notify``, the rollout's
    notifications are sent (``fleetc apply --local``)."""
    payload: dict[str, Any] | None = load_state(state) if state is not None else None
    start = float(payload["clock"]) if payload else EPOCH
    chosen_seed = seed if seed is not None else int(payload["seed"]) if payload else 0
    clock: Clock = VirtualClock(start) if speed is None else RealClock(speed, start=start)
    store = MemoryStore(clock)
    if payload:
        store.restore(payload["store"])
    manager = Manager(store, clock)
    provider = None
    if controllers:
        provider = InMemoryProvider(seed=chosen_seed, faults=faults or Faults(), start=start)
        install(manager, provider, seed=chosen_seed)
        rollout.install(manager, lambda manifest: _apply(store, manifest))
    approver = sim_approvals.install(manager, approvals) if controllers and approvals is not None else None
    notifier = Notifier(store, env_resolver(), since=clock.now() - 1) if notify else None
    return LocalPlane(store, clock, manager, chosen_seed, state, provider, speed, approver, notifier)


def check_faults(faults: Faults, plans: list[RolloutPlan], plane: LocalPlane | None = None) -> None:
    """Raise :class:`FaultsError` (a usage error) when a fault can never fire on the clusters of ``plans`` (or, with
    ``plane``, on the Clusters and Machine versions already in its state: an old machine failing mid-upgrade)."""
    shapes = [_shape(cluster.objects[-1]) for plan in plans for cluster in plan.clusters]
    if plane is not None:
        machines = plane.store.list("cluster.x-k8s.io", "Machine")
        for cluster in plane.store.list("cluster.x-k8s.io", "Cluster"):
            name = cluster["metadata"]["name"]
            versions = {m["spec"].get("version", "") for m in machines if m["spec"].get("clusterName") == name}
            shape = _shape(cluster)
            shapes.append(dataclasses.replace(shape, versions=shape.versions | versions))
    problems = unmatched_faults(faults, shapes)
    if problems:
        raise FaultsError("; ".join(problems))


def _shape(cluster: Manifest) -> FleetShape:
    topology = cluster.get("spec", {}).get("topology", {})
    pools = topology.get("workers", {}).get("machineDeployments", [])
    return FleetShape(
        cluster=cluster["metadata"]["name"],
        pools=frozenset(name for md in pools for name in (md.get("name", ""), md.get("class", "")) if name),
        versions=frozenset(filter(None, [topology.get("version")])),
        class_revisions=frozenset(filter(None, [topology.get("classRef", {}).get("name")])),
    )


def _apply(store: MemoryStore, manifest: dict[str, Any]) -> None:
    apply_objects(store, [manifest])


class SettledWatch:
    """``rollout.settled`` re-read only after the FleetRollout changed (the manager asks before every reconcile,
    and reading the rollout copies it: that was a quarter of a simulation's time)."""

    def __init__(
        self,
        store: MemoryStore,
        key: ObjectKey,
        *,
        wait_when_paused: bool = False,
        approving: Callable[[str], bool] | None = None,
    ) -> None:
        self.store, self.key, self.wait_when_paused, self.approving = store, key, wait_when_paused, approving
        self.changed, self.value = True, False
        store.watch_shared(self.on_event)

    def on_event(self, event: Event) -> None:
        """Note a change of the rollout (a store watch handler)."""
        if event.key == self.key:
            self.changed = True

    def __call__(self) -> bool:
        if self.changed:
            self.value = rollout.settled(
                self.store, self.key, wait_when_paused=self.wait_when_paused, approving=self.approving
            )
            self.changed = False
        return self.value


def run_until_settled(plane: LocalPlane, key: ObjectKey, *, on_step: Callable[[], None] | None = None) -> bool:
    """Reconcile until the rollout completes or halts; False when it got stuck (nothing left to do).

    In real time the run comes back to ``on_step`` every :data:`STEER_SECONDS` (it saves the state and picks up a
    pause or resume from another process), and a paused rollout waits instead of counting as stuck."""
    deadline = plane.clock.now() + MAX_VIRTUAL_SECONDS
    # A real-time run with a state file can be steered from another process: a pause there is waited out.
    approving = plane.approver.will_approve if plane.approver is not None else None
    until = SettledWatch(
        plane.store, key, wait_when_paused=plane.speed is not None and plane.state is not None, approving=approving
    )
    try:
        return _run_until(plane, key, until, deadline, on_step)
    finally:
        plane.store.unwatch_shared(until.on_event)


def _run_until(
    plane: LocalPlane, key: ObjectKey, until: SettledWatch, deadline: float, on_step: Callable[[], None] | None
) -> bool:
    done = False
    with collector_paused():  # the simulation makes millions of short-lived acyclic dicts; see bench/simulate_bench.py
        while not done:
            step_end = (
                deadline if plane.speed is None else min(deadline, plane.clock.now() + STEER_SECONDS * plane.speed)
            )
            done = _run_some(plane, until, step_end, on_step)
            if done:
                break
            if plane.clock.now() >= deadline:
                return False
            if plane.manager.queue.next_due() is None and not (plane.speed is not None and _paused(plane, key)):
                return False
    return True


def _run_some(plane: LocalPlane, until: SettledWatch, deadline: float, on_step: Callable[[], None] | None) -> bool:
    """Up to 500 reconciles, then a progress callback; True once the rollout settled."""
    done = plane.manager.run(until, deadline=deadline, max_steps=500)
    if on_step is not None:
        on_step()
    return done


def _paused(plane: LocalPlane, key: ObjectKey) -> bool:
    """Paused, or waiting for an approval: in real time, another process may lift either."""
    found = plane.store.find(key)
    phase = ((found or {}).get("status") or {}).get("phase")
    return bool(found and (found["spec"].get("paused") or phase == rollout.Phase.AWAITING_APPROVAL))


def roll_out(
    plane: LocalPlane,
    plan: RolloutPlan,
    *,
    on_step: Callable[[], None] | None = None,
    allow_delete: bool = False,
    faults: Faults | None = None,
) -> RolloutView:
    """Submit a rollout of a compiled revision and run it until it completes or halts.

    ``allow_delete``: clusters marked for decommissioning that left the spec may be deleted
    (:mod:`fleetc.rollout.removal`); without it such a revision is refused before anything is written.
    ``faults`` (when given) replace the plane's for this rollout; provider error windows count from its start.
    """
    if plane.provider is not None:
        plane.provider.start = plane.clock.now()
        if faults is not None:
            use_faults(plane.manager, plane.provider, faults)
    key = rollout.submit(plane.store, plan, allow_delete=allow_delete)
    settled = run_until_settled(plane, key, on_step=on_step)
    plane.save()
    return view_of(plane, key, settled)


def already_complete(plane: LocalPlane, plan: RolloutPlan) -> RolloutView | None:
    """The rollout when it already completed ``plan``'s revision (re-applying it has nothing to do), else None."""
    view = rollout.read_rollout(plane.store, plan.key)
    if view is not None and view.revision == plan.revision and view.phase is rollout.Phase.COMPLETE:
        return view
    return None


def view_of(plane: LocalPlane, key: ObjectKey, settled: bool = True) -> RolloutView:
    """The rollout's view (raises :class:`NoRolloutError` when there is none); ``stuck`` when it did not settle."""
    return settled_view(plane.store, key, settled)


def settled_view(store: MemoryStore, key: ObjectKey, settled: bool) -> RolloutView:
    """The view of the rollout ``key`` in ``store`` (:func:`view_of`)."""
    view = rollout.read_rollout(store, key)
    if view is None:
        raise NoRolloutError(f"no rollout {key.namespace}/{key.name} in this state")
    if not settled and not view.halted:
        return dataclasses.replace(view, stuck=True)
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
