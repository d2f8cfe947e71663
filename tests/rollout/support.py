"""Helpers for rollout tests: the shared CAPI status fixtures, a CAPI test double, and a rollout harness.

The fixtures are the project's own (``tests/fixtures/capi-status``, located through ``tests.upstream.reference``).
:class:`FakeCapi` is a test double, not a simulation: it plays "CAPI" by writing the fixtures' objects (renamed for
the cluster, versions substituted) into the store as a cluster's upgrade moves through the fixtures' moments, so the
rollout controller under test sees exactly the statuses real CAPI v1.14 writes.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml

from fleetc.contract.timestamps import timestamp
from fleetc.contract.vocabulary import CLUSTER_NAME_LABEL
from fleetc.core.keys import Manifest, ObjectKey
from fleetc.rollout import (
    ClusterState,
    RolloutPlan,
    RolloutView,
    WaveSpec,
    install,
    read_rollout,
    settled,
    store_applier,
    submit,
)
from fleetc.rollout.controller import RolloutController
from fleetc.rollout.desired import ClusterPlan
from fleetc.rollout.entries import ClusterEntry
from fleetc.rollout.gates import ClusterObjects
from fleetc.rollout.model import CLUSTER_ROLLOUT, GROUP
from fleetc.runtime.clock import EPOCH, VirtualClock
from fleetc.runtime.manager import DONE, Manager, Request, Result, Watch
from fleetc.runtime.memory import MemoryStore
from fleetc.runtime.store import Event, copy
from tests.upstream.reference import reference

FIXTURES = reference().capi_status
OLD, NEW = "v1.34.2", "v1.35.0"
NAMESPACE = "fleet-eu"
CLASS = "fleet-standard"
FAKE_GROUP = "test.fleetc.io"


@functools.cache
def _fixture(name: str) -> tuple[Manifest, ...]:
    folder = FIXTURES / name
    return tuple(yaml.load(path.read_text(), Loader=yaml.CSafeLoader) for path in sorted(folder.glob("*.yaml")))


def fixture(name: str) -> list[Manifest]:
    """A private copy of every object of one fixture folder."""
    copied: list[Manifest] = copy(list(_fixture(name)))
    return copied


def fixture_objects(name: str) -> ClusterObjects:
    """One fixture folder as the gate reads it."""
    return ClusterObjects.of(fixture(name))


def find(objects: list[Manifest], kind: str, name: str | None = None) -> Manifest:
    """The object of ``kind`` (and ``name``) in a list."""
    return next(o for o in objects if o["kind"] == kind and (name is None or o["metadata"]["name"] == name))


# --- the CAPI test double --------------------------------------------------------------------------------------------

SETTLED = "upgrade-complete-v1.35.0"
UPGRADE = ("cp-upgrading", "cp-upgraded-workers-upgrading", SETTLED)
STUCK = "cp-new-machine-never-gets-node"
_TIME = re.compile(r"20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ")
_STRIP = ("uid", "resourceVersion", "creationTimestamp", "generation", "ownerReferences", "finalizers")


def _substitute(value: Any, table: dict[str, str]) -> Any:
    pattern = re.compile("|".join(re.escape(k) for k in sorted(table, key=len, reverse=True)))
    return _walk(value, lambda text: pattern.sub(lambda m: table[m.group(0)], text))


def _walk(value: Any, change: Callable[[str], str]) -> Any:
    if isinstance(value, dict):
        return {k: _walk(v, change) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v, change) for v in value]
    return change(value) if isinstance(value, str) else value


@dataclass
class FakeCapi:
    """Plays CAPI for rollout tests. Each Cluster goes through the fixtures' moments after its spec changes.

    A healthy cluster shows ``cp-upgrading`` (progressing), then ``cp-upgraded-workers-upgrading``, then
    ``upgrade-complete`` at its version, ``upgrade_seconds`` after the change. A cluster in ``stuck`` shows
    ``cp-new-machine-never-gets-node`` (a failure signal) after half of that; one in ``silent`` stays at
    ``cp-upgrading`` forever (no signal: only the controller's deadline fails it); one in ``stalled`` reaches
    ``cp-upgraded-workers-upgrading`` and stays there (control plane healthy, workers never done, no signal). Its
    bookkeeping lives in the store (kind ``FakeCapiState``), so it survives a snapshot and restore.
    """

    store: MemoryStore
    clock: VirtualClock
    upgrade_seconds: float = 600.0
    stuck: set[str] = field(default_factory=set)
    silent: set[str] = field(default_factory=set)
    stalled: set[str] = field(default_factory=set)
    enqueue: Callable[[ObjectKey], None] = lambda key: None
    name: str = "fake-capi"
    group: str = "cluster.x-k8s.io"
    kind: str = "Cluster"

    def watches(self) -> list[Watch]:
        return []

    def heal(self, cluster: str, namespace: str = NAMESPACE) -> None:
        """Remove a cluster's fault; it comes up at once."""
        self.stuck.discard(cluster)
        self.silent.discard(cluster)
        self.enqueue(ObjectKey("cluster.x-k8s.io", "Cluster", namespace, cluster))

    def seed(self, cluster: Manifest) -> None:
        """A cluster that has been running at its version for a long time (faults apply to later changes only)."""
        live = self.store.create(cluster)
        self._save_state(live, since=None, old=_version(live), names=[])
        self.reconcile(Request(ObjectKey.of(live)))

    def reconcile(self, request: Request) -> Result:
        cluster = self.store.find(request.key)
        if cluster is None:
            return DONE
        state = self._state(cluster)
        generation = cluster["metadata"]["generation"]
        if state is None or state["generation"] != generation:
            old = state["version"] if state else _version(cluster)
            state = self._save_state(cluster, since=self.clock.now(), old=old, names=state["names"] if state else [])
        if state["since"] is None:
            scenario, began, wait = SETTLED, EPOCH - 86400, None
        else:
            since = float(state["since"])
            scenario, offset, wait = self._moment(cluster["metadata"]["name"], self.clock.now() - since)
            began = since + offset
        self._show(cluster, state, scenario, timestamp(began))
        return Result(requeue_after=wait) if wait is not None else DONE

    def _moment(self, name: str, elapsed: float) -> tuple[str, float, float | None]:
        """The fixture to show ``elapsed`` seconds after the change, when it began, and how long until the next."""
        step = self.upgrade_seconds / (len(UPGRADE) - 1)
        if name in self.silent:
            return UPGRADE[0], 0.0, None
        if name in self.stalled:
            return (UPGRADE[0], 0.0, step - elapsed) if elapsed < step else (UPGRADE[1], step, None)
        if name in self.stuck:
            return (UPGRADE[0], 0.0, step - elapsed) if elapsed < step else (STUCK, step, None)
        index = min(int(elapsed // step), len(UPGRADE) - 1)
        wait = None if index == len(UPGRADE) - 1 else (index + 1) * step - elapsed
        return UPGRADE[index], index * step, wait

    def _show(self, cluster: Manifest, state: Manifest, scenario: str, began: str) -> None:
        """Write the fixture's objects for this cluster; every time in them becomes the moment the scenario began."""
        name, namespace = cluster["metadata"]["name"], cluster["metadata"].get("namespace", "")
        version = _version(cluster)
        table = {"eu-prod-1": name, "eu-prod-4": name, "fleet-eu": namespace, NEW: version, OLD: state["old"]}
        objects = _walk(_substitute(list(_fixture(scenario)), table), lambda text: _TIME.sub(began, text))
        written = []
        for obj in objects:
            if obj["kind"] == "Cluster":
                self._cluster_status(cluster, obj)
                continue
            written.append(self._write(obj))
        for stale in set(state["names"]) - set(written):
            kind, _, object_name = stale.partition("/")
            group = "controlplane.cluster.x-k8s.io" if kind == "KubeadmControlPlane" else "cluster.x-k8s.io"
            key = ObjectKey(group, kind, namespace, object_name)
            if self.store.find(key) is not None:
                self.store.delete(key)
        if sorted(written) != sorted(state["names"]):
            self._save_state(cluster, since=state["since"], old=state["old"], names=sorted(written))

    def _cluster_status(self, cluster: Manifest, shown: Manifest) -> None:
        live = self.store.get(ObjectKey.of(cluster))
        generation = live["metadata"]["generation"]
        status = shown["status"]
        status["observedGeneration"] = generation
        for condition in status.get("conditions", []):
            condition["observedGeneration"] = generation
        if live.get("status") != status:
            self.store.update_status({**live, "status": status})

    def _write(self, obj: Manifest) -> str:
        metadata = {k: v for k, v in obj["metadata"].items() if k not in _STRIP and k != "deletionTimestamp"}
        desired = {**obj, "metadata": metadata}
        status = desired.pop("status", {})
        key = ObjectKey.of(desired)
        live = self.store.find(key)
        if live is None:
            live = self.store.create(desired)
        elif {k: v for k, v in live.items() if k not in ("metadata", "status")} != {
            k: v for k, v in desired.items() if k != "metadata"
        }:
            live = self.store.update({**desired, "metadata": {**live["metadata"], **metadata}})
        status = {**status, "observedGeneration": live["metadata"]["generation"]}
        if live.get("status") != status:
            self.store.update_status({**live, "status": status})
        return f"{key.kind}/{key.name}"

    def _state(self, cluster: Manifest) -> Manifest | None:
        found = self.store.find(self._state_key(cluster))
        return found["spec"] if found else None

    def _state_key(self, cluster: Manifest) -> ObjectKey:
        return ObjectKey(
            FAKE_GROUP, "FakeCapiState", cluster["metadata"].get("namespace", ""), cluster["metadata"]["name"]
        )

    def _save_state(self, cluster: Manifest, *, since: float | None, old: str, names: list[str]) -> Manifest:
        spec = {
            "generation": cluster["metadata"]["generation"],
            "version": _version(cluster),
            "since": since,
            "old": old,
            "names": names,
        }
        key = self._state_key(cluster)
        live = self.store.find(key)
        obj = {
            "apiVersion": f"{FAKE_GROUP}/v1",
            "kind": "FakeCapiState",
            "metadata": live["metadata"]
            if live
            else {
                "name": key.name,
                "namespace": key.namespace,
            },
            "spec": spec,
        }
        if live is None:
            self.store.create(obj)
        else:
            self.store.update(obj)
        return spec


def _version(cluster: Manifest) -> str:
    return str(cluster["spec"]["topology"]["version"])


# --- plans and the harness -------------------------------------------------------------------------------------------


def cluster_manifest(name: str, version: str = NEW, class_ref: str = CLASS, namespace: str = NAMESPACE) -> Manifest:
    """A desired CAPI Cluster as the compiler renders one."""
    return {
        "apiVersion": "cluster.x-k8s.io/v1beta2",
        "kind": "Cluster",
        "metadata": {"name": name, "namespace": namespace, "labels": {"fleetc.io/fleet": "acme"}},
        "spec": {
            "clusterNetwork": {"pods": {"cidrBlocks": ["192.168.0.0/16"]}},
            "topology": {
                "classRef": {"name": class_ref},
                "version": version,
                "controlPlane": {"replicas": 3},
                "workers": {"machineDeployments": [{"class": "default-worker", "name": "md-0", "replicas": 3}]},
            },
        },
    }


CLASS_OBJECT: Manifest = {
    "apiVersion": "cluster.x-k8s.io/v1beta2",
    "kind": "ClusterClass",
    "metadata": {"name": CLASS, "namespace": NAMESPACE},
    "spec": {"infrastructure": {"templateRef": {"kind": "DevClusterTemplate", "name": CLASS}}},
}


@dataclass(frozen=True)
class WaveDef:
    """A wave for a test plan: its clusters are ``<name>-<i>``."""

    name: str
    size: int
    max_concurrent: int = 1
    soak: int = 0
    deadline: int = 1800
    budget: int = 0

    def clusters(self) -> list[str]:
        return [f"{self.name}-{i:02d}" for i in range(1, self.size + 1)]


def make_plan(*waves: WaveDef, version: str = NEW, revision: str = "rev-1", class_ref: str = CLASS) -> RolloutPlan:
    """A rollout plan of ``waves`` taking every cluster to ``version``."""
    clusters = [
        ClusterPlan(
            name, NAMESPACE, wave.name, order, version, class_ref, (cluster_manifest(name, version, class_ref),)
        )
        for wave in waves
        for order, name in enumerate(wave.clusters())
    ]
    specs = tuple(
        WaveSpec(
            name=w.name,
            size=w.size,
            max_concurrent=w.max_concurrent,
            soak_seconds=w.soak,
            control_plane_deadline_seconds=w.deadline,
            failure_budget=w.budget,
        )
        for w in waves
    )
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}
    return RolloutPlan("acme", NAMESPACE, revision, specs, tuple(clusters), (namespace, CLASS_OBJECT))


@dataclass
class Harness:
    """A store, a manager in virtual time, the CAPI double, the rollout controller and a recording applier."""

    clock: VirtualClock
    store: MemoryStore
    manager: Manager
    fake: FakeCapi
    controller: RolloutController
    applied: list[tuple[float, str, str]]
    in_flight_peaks: dict[str, int] = field(default_factory=dict)
    """The most clusters of each wave ever in flight at once (checked after every ClusterRollout change)."""
    in_flight: set[tuple[str, str]] = field(default_factory=set)

    @classmethod
    def start(
        cls,
        *,
        fake: dict[str, Any] | None = None,
        applied: list[tuple[float, str, str]] | None = None,
        snapshot: dict[str, Any] | None = None,
        now: float = EPOCH,
        before_apply: Callable[[Manifest], None] | None = None,
        resync: float | None = None,
        defer: Callable[[ObjectKey], float | None] | None = None,
    ) -> Harness:
        """A fresh (or restored) plane; ``before_apply`` sees every manifest the controller applies (and may raise)."""
        clock = VirtualClock(now)
        store = MemoryStore(clock)
        if snapshot is not None:
            store.restore(snapshot)
        manager = Manager(store, clock)
        double = FakeCapi(store, clock, **(fake or {}))
        double.enqueue = lambda key: manager.enqueue(double.name, key)
        manager.add(double)
        record = applied if applied is not None else []
        inner = store_applier(store)

        def apply(manifest: Manifest) -> None:
            if before_apply is not None:
                before_apply(manifest)
            record.append((clock.now() - EPOCH, manifest["kind"], manifest["metadata"]["name"]))
            inner(manifest)

        controller = install(manager, apply, resync=resync, defer=defer)
        harness = cls(clock, store, manager, double, controller, record)
        store.watch(harness._track_in_flight)
        return harness

    def _track_in_flight(self, event: Event) -> None:
        if (event.key.group, event.key.kind) != (GROUP, CLUSTER_ROLLOUT):
            return
        entry = ClusterEntry(event.object)
        if event.type != "DELETED" and entry.state is ClusterState.IN_FLIGHT:
            self.in_flight.add((entry.wave, entry.name))
        else:
            self.in_flight.discard((entry.wave, entry.name))
        count = sum(1 for wave, _ in self.in_flight if wave == entry.wave)
        self.in_flight_peaks[entry.wave] = max(self.in_flight_peaks.get(entry.wave, 0), count)

    def seed(self, plan: RolloutPlan, version: str = OLD) -> None:
        """Every cluster of ``plan`` already running ``version``, healthy."""
        for cluster in plan.clusters:
            live = cluster_manifest(cluster.name, version, cluster.class_ref or CLASS)
            self.fake.seed(live)

    def submit(self, plan: RolloutPlan) -> ObjectKey:
        return submit(self.store, plan)

    def run(self, key: ObjectKey, *, hours: float = 48) -> RolloutView:
        """Run until the rollout settles (or ``hours`` of virtual time pass); its view."""
        self.manager.run(lambda: settled(self.store, key), deadline=self.clock.now() + hours * 3600)
        view = read_rollout(self.store, key)
        assert view is not None
        return view

    def live_version(self, cluster: str) -> str | None:
        live = self.store.find(ObjectKey("cluster.x-k8s.io", "Cluster", NAMESPACE, cluster))
        return str(live["spec"]["topology"]["version"]) if live else None

    def cluster_applies(self) -> list[str]:
        """The clusters whose Cluster object the controller applied, in order."""
        return [name for _, kind, name in self.applied if kind == "Cluster"]


def objects_of(store: MemoryStore, cluster: str) -> list[Manifest]:
    """Every CAPI object of a cluster in the store."""
    found = []
    for group, kind in (("cluster.x-k8s.io", "Machine"), ("controlplane.cluster.x-k8s.io", "KubeadmControlPlane")):
        found += store.list(group, kind, NAMESPACE, labels={CLUSTER_NAME_LABEL: cluster})
    return found
