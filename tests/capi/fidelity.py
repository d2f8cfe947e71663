"""The same rollouts through fleetc's simulation, reduced to what must agree with a real CAPI run.

What must agree: the order of wave and cluster events (which cluster started, succeeded or failed, in which wave,
when a wave completed or the rollout halted), the final phase, and what happens to Machines: in which order they
are created, flagged by a health check, start deleting and are gone, per cluster and role. Times, messages and
machine names differ by nature; ``docs/simulation.md`` ("Compared with real CAPI v1.14") records the differences
measured. Machines are watched on the real API server with ``kubectl get --watch`` (:class:`MachineWatch`) and in
the simulation through the store's watch (:func:`simulate`), into the same :class:`MachineLog`.
Used by ``tests/capi/test_lifecycle.py``, ``tests/capi/test_halt.py`` and ``tests/capi/machinesets.py``.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from fleetc.contract.timestamps import parse_timestamp
from fleetc.engine import local
from fleetc.rollout import RolloutPlan, RolloutView
from fleetc.runtime.store import Event
from fleetc.sim.faults import Faults
from tests.capi.watching import KubectlWatch
from tests.upstream.apiserver import KubeApi

Decision = tuple[str, str, str]
"""``(event type, wave, cluster)``."""
CP_LABEL = "cluster.x-k8s.io/control-plane"
CLUSTER_LABEL = "cluster.x-k8s.io/cluster-name"


def decisions(view: dict[str, Any]) -> list[Decision]:
    """The rollout's events in order (``fleetc rollout status --format json``'s shape), without times and messages."""
    return [(e["type"], e.get("wave", ""), e.get("cluster", "")) for e in view["timeline"]]


@dataclass(frozen=True)
class MachineEvent:
    """A Machine appeared, was flagged by its health check, started deleting (``deletionTimestamp`` set) or was
    gone; ``at``: when the event was seen (seconds)."""

    what: str
    """``created``, ``flagged``, ``deleting`` or ``gone``."""
    cluster: str
    role: str
    """``control-plane`` or ``worker``."""
    name: str
    version: str
    at: float
    created: float | None = None
    """The Machine's ``creationTimestamp`` (seconds of the run's clock, whole seconds)."""
    flagged: float | None = None
    """When ``HealthCheckSucceeded`` turned False (its ``lastTransitionTime``), when it is False."""
    reason: str = ""
    """``HealthCheckSucceeded``'s reason when it is False."""


@dataclass
class MachineLog:
    """Machine events in the order seen; Machines known before the log started count as existing, not created."""

    existing: set[str] = field(default_factory=set)
    events: list[MachineEvent] = field(default_factory=list)
    clusters: dict[str, dict[str, Any]] = field(default_factory=dict)
    """The simulation's Clusters as last seen (the real ones are read from the API server)."""
    owner: list[tuple[str, str, str, float]] = field(default_factory=list)
    """What the owner said of a flagged Machine: ``(machine, OwnerRemediated reason, message, at)``, each change."""
    _seen: dict[str, set[str]] = field(default_factory=dict)
    _owner: dict[str, tuple[str, str]] = field(default_factory=dict)

    def see(self, kind: str, machine: dict[str, Any], at: float) -> None:
        """Record a watch event (``ADDED``, ``MODIFIED``, ``DELETED``) of one Machine."""
        meta = machine["metadata"]
        name, labels = meta["name"], meta.get("labels", {})
        check = _condition(machine, "HealthCheckSucceeded")
        flagged = check is not None and check["status"] == "False"
        event = MachineEvent(
            "",
            labels.get(CLUSTER_LABEL, ""),
            "control-plane" if CP_LABEL in labels else "worker",
            name,
            machine["spec"].get("version", ""),
            at,
            _seconds(meta.get("creationTimestamp")),
            _seconds(check["lastTransitionTime"]) if check is not None and flagged else None,
            check["reason"] if check is not None and flagged else "",
        )
        seen = self._seen.setdefault(name, set())
        happened = [
            ("created", kind == "ADDED" and name not in self.existing),
            ("flagged", flagged),
            ("deleting", bool(meta.get("deletionTimestamp")) or kind == "DELETED"),
            ("gone", kind == "DELETED"),
        ]
        for what, now in happened:
            if now and what not in seen:
                seen.add(what)
                self.events.append(dataclasses.replace(event, what=what))
        owner = _condition(machine, "OwnerRemediated")
        said = (owner["reason"], owner.get("message", "")) if owner is not None and owner["status"] == "False" else None
        if said is not None and self._owner.get(name) != said:
            self._owner[name] = said
            self.owner.append((name, *said, at))

    def sequence(self, cluster: str, target: str, *, flags_while_deleting: bool = True) -> list[tuple[str, str, str]]:
        """One cluster's Machine events as ``(what, role, old|new)`` in order (``new``: at the ``target`` version).
        ``flags_while_deleting=False`` leaves out a flag raised after the Machine started deleting."""
        deleting: set[str] = set()
        found = []
        for e in self.events:
            deleting |= {e.name} if e.what == "deleting" else set()
            if e.cluster == cluster and (flags_while_deleting or e.what != "flagged" or e.name not in deleting):
                found.append((e.what, e.role, "new" if e.version == target else "old"))
        return found

    def flagged_while_deleting(self) -> list[MachineEvent]:
        """The flags a health check raised on Machines already being deleted."""
        deleting: set[str] = set()
        found = []
        for e in self.events:
            deleting |= {e.name} if e.what == "deleting" else set()
            if e.what == "flagged" and e.name in deleting:
                found.append(e)
        return found

    def deleting_seconds(self) -> dict[str, float]:
        """How long each deleted Machine was seen with a ``deletionTimestamp`` (0: deleted at once)."""
        began = {e.name: e.at for e in self.events if e.what == "deleting"}
        return {e.name: round(e.at - began[e.name], 1) for e in self.events if e.what == "gone"}


def _condition(obj: dict[str, Any], condition_type: str) -> dict[str, Any] | None:
    conditions: list[dict[str, Any]] = obj.get("status", {}).get("conditions", [])
    return next((c for c in conditions if c["type"] == condition_type), None)


def _seconds(moment: str | None) -> float | None:
    return parse_timestamp(moment) if moment else None


def cluster_condition_since(cluster: dict[str, Any], condition_type: str) -> float | None:
    """When a Cluster's condition last turned True (None: it is not True)."""
    condition = _condition(cluster, condition_type)
    return parse_timestamp(condition["lastTransitionTime"]) if condition and condition["status"] == "True" else None


class MachineWatch:
    """The Machines of one namespace of the real API server recorded into a :class:`MachineLog` while the ``with``
    block runs (times: seconds of the monotonic clock)."""

    def __init__(self, api: KubeApi, namespace: str) -> None:
        self.api, self.namespace, self.log = api, namespace, MachineLog()
        self._watch = KubectlWatch(api, namespace, "machines.cluster.x-k8s.io", self._see)

    def _see(self, kind: str, machine: dict[str, Any]) -> None:
        self.log.see(kind, machine, time.monotonic())

    def __enter__(self) -> MachineWatch:
        items = json.loads(
            self.api.kubectl("get", "machines.cluster.x-k8s.io", "-n", self.namespace, "-o", "json").stdout
        )["items"]
        self.log.existing = {m["metadata"]["name"] for m in items}
        self._watch.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._watch.__exit__(*exc)


def simulate(
    plans: Sequence[RolloutPlan], faults: Faults | None = None, *, machines: MachineLog | None = None
) -> list[RolloutView]:
    """Each plan rolled out in turn on one simulated plane (virtual time); their views. With ``machines``, the last
    plan's Machine events (and its Clusters) are recorded there (times: seconds of virtual time)."""
    plane = local.open_plane(faults=faults)
    views = []
    for number, plan in enumerate(plans, start=1):
        if machines is not None and number == len(plans):
            record_machines(plane, machines)
        views.append(local.roll_out(plane, plan))
    return views


def record_machines(plane: local.LocalPlane, log: MachineLog) -> None:
    """From now on, record the simulated plane's Machine events (and its Clusters) into ``log`` (times: seconds of
    virtual time); Machines that exist now count as existing."""
    log.existing = {m["metadata"]["name"] for m in plane.store.list("cluster.x-k8s.io", "Machine")}
    plane.store.watch_shared(_recorder(log, plane.clock.now))


def _recorder(log: MachineLog, now: Callable[[], float]) -> Callable[[Event], None]:
    def record(event: Event) -> None:
        if event.key.group == "cluster.x-k8s.io" and event.key.kind == "Machine":
            log.see(event.type, event.object, now())
        elif event.key.group == "cluster.x-k8s.io" and event.key.kind == "Cluster":
            log.clusters[event.key.name] = event.object

    return record


def cluster_seconds(view: RolloutView | dict[str, Any]) -> dict[str, float]:
    """How long each cluster took from start to finish (seconds of the run's clock)."""
    clusters: Iterable[dict[str, Any]] = (view.to_dict() if isinstance(view, RolloutView) else view)["clusters"]
    return {
        c["name"]: parse_timestamp(c["finishedAt"]) - parse_timestamp(c["startedAt"])
        for c in clusters
        if c.get("startedAt") and c.get("finishedAt")
    }
