"""One share of a sharded simulation: some of the fleet's workload clusters, with CAPI simulated over them.

A sharded simulation (:mod:`fleetc.engine.sharded`) splits a fleet's workload clusters across processes, so that a
fleet of thousands of clusters uses every core. Each :class:`Shard` holds its clusters' CAPI objects in a store of
its own and runs the simulated CAPI controllers over them (:func:`fleetc.sim.plane.install`), with a virtual clock
the coordinator moves. It also keeps the rollout controller's per-cluster memory for its clusters (a
:class:`~fleetc.rollout.watching.Watchlist` and its verdict checks): which clusters a rollout watches, against what
target, and which verdicts changed. The coordinator calls it through the same narrow calls the rollout controller
makes on :class:`~fleetc.rollout.workloads.Workloads`, each with the coordinator's ``now``.

:func:`start_remote` starts a shard in a child process (:func:`main`, :func:`serve`), which answers calls that
arrive on a socket; :class:`RemoteShard` is the coordinator's end of it. Both have the calls of :class:`ShardHandle`.
Caller: :mod:`fleetc.engine.sharded`.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import resource
import signal
import socket
import subprocess
import sys
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Protocol

from fleetc.core.errors import FleetcError
from fleetc.core.keys import Manifest, ObjectKey
from fleetc.load.loader import collector_paused
from fleetc.rollout.cache import ClusterId, Informer
from fleetc.rollout.controller import VerdictChecks, check_scheduler
from fleetc.rollout.gates import Target, Verdict
from fleetc.rollout.watching import Watchlist
from fleetc.rollout.workloads import LiveTopology, LocalWorkloads
from fleetc.runtime.clock import VirtualClock
from fleetc.runtime.manager import Manager
from fleetc.runtime.memory import MemoryStore
from fleetc.sim.faults import Faults
from fleetc.sim.inmemory import InMemoryProvider
from fleetc.sim.plane import apply_objects, install, use_faults

Changed = tuple[ObjectKey, str]
"""A rollout and the name of one of its clusters whose verdict changed."""


@dataclass(frozen=True)
class Advanced:
    """What a shard reports after running up to an instant."""

    changed: tuple[Changed, ...]
    """The clusters whose verdict changed (their rollouts act on it at this instant), in a stable order."""
    next_due: float | None
    """When the shard has work next (None: nothing queued)."""
    reconciles: int
    """Reconciles run so far."""


@dataclass(frozen=True)
class Usage:
    """What a shard holds and used."""

    objects: int
    reconciles: int
    peak_mb: float
    """The peak resident memory of the shard's process (``ru_maxrss``)."""
    cpu_seconds: float
    """The processor time the shard's process used so far (user and system)."""


class ShardHandle(Protocol):
    """The calls a coordinator makes on a shard, in this process or another."""

    def start_advance(self, until: float) -> None:
        """Start running every reconcile due up to ``until`` (then the clock stands at ``until``)."""
        ...

    def finish_advance(self) -> Advanced:
        """Wait for the run :meth:`start_advance` started; what changed."""
        ...

    def begin_rollout(self, now: float, faults: Faults | None) -> None:
        """A rollout starts at ``now``: provider error windows count from it; ``faults`` replace the shard's."""
        ...

    def judge(self, now: float, rollout: ObjectKey, cluster: ClusterId, target: Target) -> Verdict:
        """:meth:`~fleetc.rollout.workloads.Workloads.judge` (and likewise the calls below)."""
        ...

    def progressing_since(self, now: float, cluster: ClusterId) -> float: ...

    def unwatch(self, now: float, rollout: ObjectKey, cluster: ClusterId) -> None: ...

    def forget(self, now: float, rollout: ObjectKey) -> None: ...

    def machine_names(self, now: float, cluster: ClusterId) -> list[str]: ...

    def live_topology(self, now: float, cluster: ClusterId) -> LiveTopology | None: ...

    def apply_cluster(
        self, now: float, cluster: ClusterId, desired: Manifest, objects: Sequence[Manifest], version: str
    ) -> tuple[str | None, bool]: ...

    def apply_shared(self, now: float, obj: Manifest) -> None: ...

    def delete_cluster(self, now: float, cluster: ClusterId) -> None: ...

    def let_go(self, now: float, cluster: ClusterId) -> None: ...

    def clusters(self, fleet_label: str, fleet: str) -> list[Manifest]:
        """The shard's CAPI Clusters labelled ``fleet_label=fleet``."""
        ...

    def snapshot(self) -> dict[str, Any]:
        """Every object the shard holds (:meth:`MemoryStore.snapshot`)."""
        ...

    def usage(self) -> Usage:
        """What the shard holds and used."""
        ...

    def close(self) -> None:
        """Stop (a child process exits)."""
        ...


class Shard:
    """A share of the fleet's clusters in this process (see the module docstring)."""

    def __init__(self, seed: int, start: float, faults: Faults) -> None:
        self._clock = VirtualClock(start)
        self._store = MemoryStore(self._clock)
        self._manager = Manager(self._store, self._clock)
        self._provider = InMemoryProvider(seed=seed, faults=faults, start=start)
        install(self._manager, self._provider, seed=seed)
        self._changed_rollouts: set[ObjectKey] = set()
        self._until: float | None = None
        informer = Informer(self._store, self._on_workload_change)
        self._watch = Watchlist(
            informer.workloads.objects,
            self._changed_rollouts.add,
            check_scheduler(self._manager),
            self._clock.now,
        )
        self._manager.add(VerdictChecks(self._watch))
        self._workloads = LocalWorkloads(self._watch, informer.workloads, self._apply, self._store)

    def _on_workload_change(self, cluster: ClusterId) -> None:
        self._watch.on_change(cluster)

    def _apply(self, manifest: Manifest) -> None:
        apply_objects(self._store, [manifest])

    def _at(self, now: float) -> None:
        """Move the clock to the coordinator's ``now`` (nothing of this shard is due before it)."""
        if now > self._clock.now():
            self._clock.wait_until(now)

    def start_advance(self, until: float) -> None:
        self._until = until

    def finish_advance(self) -> Advanced:
        until, self._until = self._until, None
        assert until is not None, "finish_advance without start_advance"
        return self.advance(until)

    def advance(self, until: float) -> Advanced:
        """Run every reconcile due up to ``until``; what changed."""
        self._manager.run(lambda: False, deadline=until)
        changed = tuple(
            (rollout, name)
            for rollout in sorted(self._changed_rollouts)
            for name in sorted(self._watch.take_changed(rollout))
        )
        self._changed_rollouts.clear()
        return Advanced(changed, self._manager.queue.next_due(), self._manager.stats.reconciles)

    def begin_rollout(self, now: float, faults: Faults | None) -> None:
        self._at(now)
        self._provider.start = now
        if faults is not None:
            use_faults(self._manager, self._provider, faults)

    def judge(self, now: float, rollout: ObjectKey, cluster: ClusterId, target: Target) -> Verdict:
        self._at(now)
        return self._workloads.judge(rollout, cluster, target)

    def progressing_since(self, now: float, cluster: ClusterId) -> float:
        self._at(now)
        return self._workloads.progressing_since(cluster)

    def unwatch(self, now: float, rollout: ObjectKey, cluster: ClusterId) -> None:
        self._at(now)
        self._workloads.unwatch(rollout, cluster)

    def forget(self, now: float, rollout: ObjectKey) -> None:
        self._at(now)
        self._workloads.forget(rollout)

    def machine_names(self, now: float, cluster: ClusterId) -> list[str]:
        self._at(now)
        return self._workloads.machine_names(cluster)

    def live_topology(self, now: float, cluster: ClusterId) -> LiveTopology | None:
        self._at(now)
        return self._workloads.live_topology(cluster)

    def apply_cluster(
        self, now: float, cluster: ClusterId, desired: Manifest, objects: Sequence[Manifest], version: str
    ) -> tuple[str | None, bool]:
        self._at(now)
        return self._workloads.apply_cluster(cluster, desired, objects, version)

    def apply_shared(self, now: float, obj: Manifest) -> None:
        self._at(now)
        self._workloads.apply_shared(obj)

    def delete_cluster(self, now: float, cluster: ClusterId) -> None:
        self._at(now)
        self._workloads.delete_cluster(cluster)

    def let_go(self, now: float, cluster: ClusterId) -> None:
        self._at(now)
        self._workloads.let_go(cluster)

    def clusters(self, fleet_label: str, fleet: str) -> list[Manifest]:
        return self._store.list("cluster.x-k8s.io", "Cluster", labels={fleet_label: fleet})

    def snapshot(self) -> dict[str, Any]:
        return self._store.snapshot()

    def usage(self) -> Usage:
        used = resource.getrusage(resource.RUSAGE_SELF)
        return Usage(
            len(self._store), self._manager.stats.reconciles, used.ru_maxrss / 1024, used.ru_utime + used.ru_stime
        )

    def close(self) -> None:
        """Nothing to stop in this process."""


ONE_WAY = frozenset({"unwatch", "forget"})
"""Calls that send no answer (an error they raise comes back with the next answer)."""


class ShardError(BaseException):
    """A shard's process failed: the message holds its traceback. Not an ``Exception``: like an interrupt, it ends
    the run (the manager retries a reconcile that raised an ``Exception``, and this one would fail for ever)."""


def main() -> None:
    """A shard's process (started by :func:`start_remote`): the socket's descriptor is its only argument, the
    first message its :class:`Shard`'s seed, start time and faults."""
    connection = Connection(int(sys.argv[1]))
    seed, start, faults = connection.recv()
    serve(connection, seed, start, faults)


def serve(connection: Connection, seed: int, start: float, faults: dict[str, Any]) -> None:
    """A child process's loop: make a :class:`Shard`, answer calls until ``close`` or the socket closes.

    A message is ``(call, args)``; the answer ``("ok", value)``, ``("raise", error)`` or ``("error", traceback)``
    (:func:`answer_to`). ``start_advance`` runs the shard and answers with what :meth:`Shard.advance` returns,
    which :meth:`RemoteShard.finish_advance` reads.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the coordinator's to handle: it closes the shards
    with collector_paused():  # millions of short-lived acyclic dicts: see bench/simulate_bench.py
        _answer_calls(connection, Shard(seed, start, Faults.model_validate(faults)))


def start_remote(seed: int, start: float, faults: Faults) -> RemoteShard:
    """A :class:`Shard` in a new Python process (the same interpreter), connected by a socket pair.

    A plain subprocess, not :mod:`multiprocessing`: its ``spawn`` runs the caller's main script again in the child,
    which breaks a script without a ``__main__`` guard, and ``fork`` would copy this process's memory (and with it
    the measure of each process's own)."""
    mine, theirs = socket.socketpair()
    package_root = str(Path(__file__).resolve().parents[2])
    path = os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH", "")]))
    try:
        process = subprocess.Popen(
            [sys.executable, "-c", "from fleetc.engine.shard import main; main()", str(theirs.fileno())],
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL,
            env={**os.environ, "PYTHONPATH": path},
        )
    finally:
        theirs.close()
    connection = Connection(mine.detach())
    connection.send((seed, start, faults.model_dump(mode="json")))
    return RemoteShard(connection, process)


def _answer_calls(connection: Connection, shard: Shard) -> None:
    pending: tuple[str, Any] | None = None
    while True:
        try:
            call, args = connection.recv()
        except (EOFError, OSError):
            return  # the coordinator is gone
        if call == "close":
            _send(connection, ("ok", None))
            return
        try:
            value: Any = shard.advance(*args) if call == "start_advance" else getattr(shard, call)(*args)
        except Exception as exc:
            pending = answer_to(exc)
            value = None
        if call in ONE_WAY:
            continue
        answer, pending = pending or ("ok", value), None
        if not _send(connection, answer):
            return


def answer_to(exc: Exception) -> tuple[str, Any]:
    """How a call that raised answers: an error fleetc expects (a rejected apply, a conflict) is raised again in the
    coordinator as itself, as it would be in one process (where the manager retries the reconcile); anything else is
    a bug, reported with its traceback."""
    if isinstance(exc, FleetcError):
        with contextlib.suppress(Exception):
            pickle.loads(pickle.dumps(exc))
            return "raise", exc
    return "error", "".join(traceback.format_exception(exc))


def _send(connection: Connection, answer: tuple[str, Any]) -> bool:
    """Send an answer; False when the coordinator is gone (it was interrupted, or it ended)."""
    try:
        connection.send(answer)
    except OSError:
        return False
    return True


class RemoteShard:
    """The coordinator's end of a shard in a child process (:func:`serve`)."""

    def __init__(self, connection: Connection, process: subprocess.Popen[bytes]) -> None:
        self._connection, self._process = connection, process

    @property
    def pid(self) -> int:
        """The shard's process."""
        return self._process.pid

    def _cast(self, call: str, *args: Any) -> None:
        try:
            self._connection.send((call, args))
        except OSError as exc:
            raise ShardError(f"the shard process {self.pid} ended unexpectedly ({exc.strerror or exc})") from None

    def _answer(self) -> Any:
        try:
            status, value = self._connection.recv()
        except EOFError:
            raise ShardError(f"the shard process {self.pid} ended unexpectedly") from None
        if status == "raise":
            raise value
        if status == "error":
            raise ShardError(f"the shard process {self.pid} failed:\n{value}")
        return value

    def _call(self, call: str, *args: Any) -> Any:
        self._cast(call, *args)
        return self._answer()

    def start_advance(self, until: float) -> None:
        self._cast("start_advance", until)

    def finish_advance(self) -> Advanced:
        advanced: Advanced = self._answer()
        return advanced

    def begin_rollout(self, now: float, faults: Faults | None) -> None:
        self._call("begin_rollout", now, faults)

    def judge(self, now: float, rollout: ObjectKey, cluster: ClusterId, target: Target) -> Verdict:
        verdict: Verdict = self._call("judge", now, rollout, cluster, target)
        return verdict

    def progressing_since(self, now: float, cluster: ClusterId) -> float:
        return float(self._call("progressing_since", now, cluster))

    def unwatch(self, now: float, rollout: ObjectKey, cluster: ClusterId) -> None:
        self._cast("unwatch", now, rollout, cluster)

    def forget(self, now: float, rollout: ObjectKey) -> None:
        self._cast("forget", now, rollout)

    def machine_names(self, now: float, cluster: ClusterId) -> list[str]:
        names: list[str] = self._call("machine_names", now, cluster)
        return names

    def live_topology(self, now: float, cluster: ClusterId) -> LiveTopology | None:
        topology: LiveTopology | None = self._call("live_topology", now, cluster)
        return topology

    def apply_cluster(
        self, now: float, cluster: ClusterId, desired: Manifest, objects: Sequence[Manifest], version: str
    ) -> tuple[str | None, bool]:
        result: tuple[str | None, bool] = self._call("apply_cluster", now, cluster, desired, list(objects), version)
        return result

    def apply_shared(self, now: float, obj: Manifest) -> None:
        self._call("apply_shared", now, obj)

    def delete_cluster(self, now: float, cluster: ClusterId) -> None:
        self._call("delete_cluster", now, cluster)

    def let_go(self, now: float, cluster: ClusterId) -> None:
        self._call("let_go", now, cluster)

    def clusters(self, fleet_label: str, fleet: str) -> list[Manifest]:
        found: list[Manifest] = self._call("clusters", fleet_label, fleet)
        return found

    def snapshot(self) -> dict[str, Any]:
        found: dict[str, Any] = self._call("snapshot")
        return found

    def usage(self) -> Usage:
        usage: Usage = self._call("usage")
        return usage

    def close(self) -> None:
        with contextlib.suppress(ShardError, OSError):  # gone already
            self._call("close")
        self._connection.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
