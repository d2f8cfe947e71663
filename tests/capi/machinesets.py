"""MachineSet scenarios played on real CAPI v1.14 and on fleetc's simulation of it, with the same objects and faults.

A :class:`Scenario` is one cluster's rendered revisions (what ``fleetc apply`` would write: the class revision, its
templates, the Cluster), applied in turn, each after the cluster became Available with the previous one; from one
of them on, Machine events are recorded into a :class:`~tests.capi.fidelity.MachineLog` until the scenario's
``stop`` holds. No fleetc rollout runs: these compare CAPI's MachineSet and MachineHealthCheck behaviour (which
flagged Machine goes first, ``maxInFlight``, who remediates during a rollout, the preflight checks) with the
simulation's, not fleetc's gates.

Faults: on the real server, new DevMachines boot slowly (:class:`~tests.capi.lifecycle.SlowBoot`); in the
simulation, the matching :class:`~fleetc.sim.faults.Faults`. Another actor asking for a remediation (the
``cluster.x-k8s.io/remediate-machine`` annotation) is a :class:`Mark`: played by :class:`RealMark` (a ``kubectl``
watch) and :class:`SimMark` (a reconciler on the simulated manager).
Used by ``tests/capi/test_machineset_fidelity.py``.
"""

from __future__ import annotations

import json
import re
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from fleetc.contract.vocabulary import CAPI_GROUP
from fleetc.core.keys import Manifest, ObjectKey
from fleetc.engine import local
from fleetc.runtime.manager import DONE, Request, Result, Watch
from fleetc.sim.faults import Faults
from fleetc.sim.plane import apply_objects
from tests.capi.fidelity import (
    CP_LABEL,
    MachineEvent,
    MachineLog,
    MachineWatch,
    cluster_condition_since,
)
from tests.capi.fidelity import record_machines as record_simulated
from tests.capi.lifecycle import SlowBoot
from tests.capi.watching import KubectlWatch
from tests.upstream.apiserver import KubeApi

REMEDIATE = "cluster.x-k8s.io/remediate-machine"
MACHINES = "machines.cluster.x-k8s.io"


@dataclass(frozen=True)
class Mark:
    """Once a Machine with ``role`` at ``version`` appears, wait ``delay`` seconds, then annotate every worker
    Machine at ``workers_at`` (not being deleted) with ``cluster.x-k8s.io/remediate-machine``."""

    role: str
    version: str
    workers_at: str
    delay: float = 3.0

    def triggers(self, machine: Manifest) -> bool:
        """Whether this Machine starts the countdown."""
        return role_of(machine) == self.role and machine["spec"].get("version") == self.version

    def targets(self, machine: Manifest) -> bool:
        """Whether this Machine gets the annotation."""
        meta = machine["metadata"]
        return (
            role_of(machine) == "worker"
            and machine["spec"].get("version") == self.workers_at
            and not meta.get("deletionTimestamp")
        )


@dataclass
class Marked:
    """Which Machines a :class:`Mark` annotated, and when (seconds of the run's clock)."""

    names: list[str] = field(default_factory=list)
    at: float | None = None


@dataclass(frozen=True)
class Scenario:
    """One cluster's revisions, what to observe, and the faults that make it interesting."""

    cluster: str
    revisions: tuple[tuple[Manifest, ...], ...]
    observe_from: int
    """Index of the revision whose apply starts the recording (0: from the cluster's creation)."""
    stop: Callable[[MachineLog], bool]
    slow: tuple[str, str] | None = None
    """Real side: new DevMachines of this role (``control-plane`` or ``worker``) boot in this time (``1h``)."""
    faults: Faults = field(default_factory=Faults)
    """Simulation side: the same fault."""
    mark: Mark | None = None
    timeout: float = 420.0
    settle: float = 2.0
    """Seconds recorded after ``stop`` held."""


def role_of(machine: Manifest) -> str:
    """``control-plane`` or ``worker``."""
    return "control-plane" if CP_LABEL in machine["metadata"].get("labels", {}) else "worker"


@dataclass
class RealRun:
    """A scenario on the real API server, run on a thread of its own (:meth:`start`, then :meth:`result`)."""

    api: KubeApi
    namespace: str
    scenario: Scenario
    log: MachineLog = field(default_factory=MachineLog)
    seconds: float = 0.0
    marked: Marked = field(default_factory=Marked)
    error: BaseException | None = None
    _thread: threading.Thread | None = None

    def start(self) -> RealRun:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def result(self) -> RealRun:
        """Wait for the run; raise what failed in it."""
        assert self._thread is not None
        self._thread.join(timeout=self.scenario.timeout + 600)
        assert not self._thread.is_alive(), f"{self.scenario.cluster}: still running"
        if self.error is not None:
            raise self.error
        return self

    def _run(self) -> None:
        try:
            self._play()
        except BaseException as exc:  # handed to the test by result()
            self.error = exc

    def _play(self) -> None:
        scenario, api, namespace = self.scenario, self.api, self.namespace
        for objects in scenario.revisions[: scenario.observe_from]:
            apply_real(api, objects)
            wait_available(api, namespace, scenario.cluster)
        started = time.monotonic()
        with MachineWatch(api, namespace) as watch:
            self.log = watch.log
            slow = SlowBoot(api, namespace, scenario.cluster, *scenario.slow, new_only=True) if scenario.slow else None
            mark = RealMark(api, namespace, scenario.mark, self.marked) if scenario.mark else None
            with slow or _Nothing(), mark or _Nothing():
                for number, objects in enumerate(scenario.revisions[scenario.observe_from :]):
                    if number:
                        wait_available(api, namespace, scenario.cluster)
                    apply_real(api, objects)
                deadline = time.monotonic() + scenario.timeout
                while not scenario.stop(watch.log):
                    assert time.monotonic() < deadline, f"{scenario.cluster}: stop never held: {watch.log.events}"
                    time.sleep(0.5)
                self.seconds = time.monotonic() - started
                time.sleep(scenario.settle)


class _Nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def apply_real(api: KubeApi, objects: Sequence[Manifest]) -> None:
    """Server-side apply the objects (as ``fleetc apply`` would, with its field manager)."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump({"apiVersion": "v1", "kind": "List", "items": list(objects)}, handle)
    try:
        api.kubectl("apply", "--server-side", "--field-manager=fleetc", "--force-conflicts", "-f", handle.name)
    finally:
        Path(handle.name).unlink()


def wait_available(api: KubeApi, namespace: str, cluster: str, timeout: float = 300) -> None:
    """Until the CAPI Cluster reports ``Available=True``."""
    api.kubectl("wait", "--for=condition=Available=True", f"--timeout={timeout:.0f}s", "-n", namespace,
                f"clusters.cluster.x-k8s.io/{cluster}")  # fmt: skip


class RealMark:
    """:class:`Mark` played on the real API server: a watch of the namespace's Machines."""

    def __init__(self, api: KubeApi, namespace: str, mark: Mark, marked: Marked) -> None:
        self.api, self.namespace, self.mark, self.marked = api, namespace, mark, marked
        self.machines: dict[str, Manifest] = {}
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()
        self._watch = KubectlWatch(api, namespace, MACHINES, self._see)

    def _see(self, kind: str, machine: Manifest) -> None:
        name = machine["metadata"]["name"]
        with self._lock:
            if kind == "DELETED":
                self.machines.pop(name, None)
            else:
                self.machines[name] = machine
        if self._timer is None and kind != "DELETED" and self.mark.triggers(machine):
            self._timer = threading.Timer(self.mark.delay, self._annotate)
            self._timer.start()

    def _annotate(self) -> None:
        with self._lock:
            names = sorted(name for name, m in self.machines.items() if self.mark.targets(m))
        for name in names:
            self.api.kubectl("annotate", MACHINES, name, "-n", self.namespace, f"{REMEDIATE}=")
            self.marked.names.append(name)
        self.marked.at = time.monotonic()

    def __enter__(self) -> RealMark:
        self._watch.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._timer is not None:
            self._timer.join(timeout=60)
        self._watch.__exit__(*exc)


class SimMark:
    """:class:`Mark` played on the simulated manager: a reconciler of Machines that annotates through the store."""

    name = "test-remediate-mark"
    group = CAPI_GROUP
    kind = "Machine"

    def __init__(self, plane: local.LocalPlane, mark: Mark, marked: Marked) -> None:
        self.plane, self.mark, self.marked = plane, mark, marked
        self.due: float | None = None
        self.done = False

    def watches(self) -> list[Watch]:
        """Nothing but its own kind."""
        return []

    def reconcile(self, request: Request) -> Result:
        """Start the countdown on the first trigger; annotate when it ran out."""
        now = self.plane.clock.now()
        if self.done:
            return DONE
        if self.due is None:
            machine = self.plane.store.find(request.key)
            if machine is None or not self.mark.triggers(machine):
                return DONE
            self.due = now + self.mark.delay
        if now < self.due:
            return Result(requeue_after=self.due - now)
        self.done = True
        for machine in self.plane.store.list(CAPI_GROUP, "Machine"):
            if self.mark.targets(machine):
                self.plane.store.patch(ObjectKey.of(machine), {"metadata": {"annotations": {REMEDIATE: ""}}})
                self.marked.names.append(machine["metadata"]["name"])
        self.marked.at = now
        return DONE


@dataclass
class SimRun:
    """The scenario through the simulation (virtual time)."""

    log: MachineLog
    seconds: float
    marked: Marked


def run_simulated(scenario: Scenario) -> SimRun:
    """Play the scenario on a simulated plane with its faults."""
    plane = local.open_plane(faults=scenario.faults)
    log, marked = MachineLog(), Marked()
    started = plane.clock.now()
    for number, objects in enumerate(scenario.revisions):
        if number:
            available = _available(plane, scenario.cluster)
            assert plane.manager.run(available, deadline=plane.clock.now() + 600), f"{scenario.cluster}: not Available"
        if number == scenario.observe_from:
            record_simulated(plane, log)
            started = plane.clock.now()
            if scenario.mark is not None:
                plane.manager.add(SimMark(plane, scenario.mark, marked))
        apply_objects(plane.store, objects)
    stopped = plane.manager.run(lambda: scenario.stop(log), deadline=plane.clock.now() + scenario.timeout)
    assert stopped, f"{scenario.cluster}: stop never held in the simulation: {log.events}"
    seconds = plane.clock.now() - started
    plane.manager.run(lambda: False, deadline=plane.clock.now() + scenario.settle)
    return SimRun(log, seconds, marked)


def _available(plane: local.LocalPlane, cluster: str) -> Callable[[], bool]:
    def available() -> bool:
        found = [c for c in plane.store.list(CAPI_GROUP, "Cluster") if c["metadata"]["name"] == cluster]
        return bool(found) and cluster_condition_since(found[0], "Available") is not None

    return available


def count(log: MachineLog, what: str, role: str, version: str | None = None) -> int:
    """How many events of a kind the log has for Machines of a role (and version)."""
    return sum(1 for e in log.events if e.what == what and e.role == role and version in (None, e.version))


def most_deleting(log: MachineLog, role: str) -> int:
    """The most Machines of a role seen deleting at the same time."""
    deleting: set[str] = set()
    most = 0
    for e in log.events:
        if e.role == role and e.what == "deleting":
            deleting.add(e.name)
        elif e.role == role and e.what == "gone":
            deleting.discard(e.name)
        most = max(most, len(deleting))
    return most


@dataclass(frozen=True)
class Pick:
    """A flagged Machine the MachineSet started deleting, and the flagged Machines it could have picked then."""

    picked: MachineEvent
    candidates: tuple[MachineEvent, ...]

    def follows_order(self) -> bool:
        """The pick is the first of the candidates in CAPI's remediation order (``sortMachinesToRemediate``:
        annotated first, then the newest, then by name; creation times in whole seconds, as the API reports them).
        """
        first = min(self.candidates, key=lambda e: (e.reason != "HasRemediateAnnotation", -(e.created or 0), e.name))
        return first.name == self.picked.name


def picks(log: MachineLog, role: str = "worker") -> list[Pick]:
    """Every flagged Machine of a role that started deleting, in order, with the other flagged ones waiting."""
    flagged: dict[str, MachineEvent] = {}
    found = []
    for e in log.events:
        if e.role != role:
            continue
        if e.what == "flagged":
            flagged[e.name] = e
        elif e.what == "deleting" and e.name in flagged:
            found.append(Pick(flagged[e.name], tuple(flagged.values())))
            del flagged[e.name]
        elif e.what == "gone":
            flagged.pop(e.name, None)
    return found


def failed_checks(message: str) -> list[str]:
    """The preflight checks an ``OwnerRemediated`` (or ``ScalingUp``) message names as failed."""
    return re.findall(r'\("(\w+)" preflight check failed\)', message)


def owner_reasons(log: MachineLog, machines: set[str]) -> list[str]:
    """The ``OwnerRemediated`` reasons these Machines went through, in order (repeats of one reason merged)."""
    reasons: list[str] = []
    for name, reason, _, _ in log.owner:
        if name in machines and (not reasons or reasons[-1] != reason):
            reasons.append(reason)
    return reasons
