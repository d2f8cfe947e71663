"""A workload cluster's CAPI objects as a tree of rows, like ``clusterctl describe cluster`` (v1beta2).

Pure: takes the objects of one cluster (Cluster, KubeadmControlPlane, MachineDeployments, MachinePools,
Machines), returns rows; ``fleetc status`` prints them (:mod:`fleetc.cli.status_cmd`). Works the same on the
simulated plane and on a real management cluster. As in clusterctl: the Cluster's infrastructure has its own row
(its status is the Cluster's ``InfrastructureReady`` condition, which CAPI mirrors from the infrastructure
cluster's ``Ready``), a multi-line condition message continues on the rows below (nothing is cut), and
``show_conditions`` (kinds, ``Kind/name`` or ``all``) lists every condition of the chosen objects under them.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace
from typing import Any

from fleetc.contract.conditions import get_condition
from fleetc.contract.timestamps import parse_timestamp
from fleetc.contract.vocabulary import CONTROL_PLANE_LABEL, DEPLOYMENT_NAME_LABEL
from fleetc.core.keys import Manifest

COLUMNS = ("NAME", "REPLICAS", "AVAILABLE", "READY", "UP TO DATE", "STATUS", "REASON", "SINCE", "MESSAGE")


@dataclass(frozen=True)
class Row:
    """One line of the tree; ``kind``/``object_name`` are empty on condition and continuation rows."""

    name: str
    replicas: str = ""
    available: str = ""
    ready: str = ""
    up_to_date: str = ""
    status: str = ""
    reason: str = ""
    since: str = ""
    message: str = ""
    kind: str = ""
    object_name: str = ""
    condition: str = ""
    """On a ``show_conditions`` row: the condition's type."""

    def cells(self) -> tuple[str, ...]:
        """The row as column values, in :data:`COLUMNS` order."""
        return (
            self.name,
            self.replicas,
            self.available,
            self.ready,
            self.up_to_date,
            self.status,
            self.reason,
            self.since,
            self.message,
        )


def age(seconds: float) -> str:
    """``75`` → ``1m15s``; days and hours for long spans, like kubectl."""
    seconds = max(int(seconds), 0)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d{hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h{minutes}m" if minutes else f"{hours}h"
    if minutes:
        return f"{minutes}m{secs}s" if secs else f"{minutes}m"
    return f"{secs}s"


def message_lines(condition: dict[str, Any]) -> list[str]:
    """A condition's message, one entry per non-empty line (CAPI's ``* `` bullets kept)."""
    return [line.rstrip() for line in str(condition.get("message", "")).strip().splitlines() if line.strip()]


def _condition_cells(condition: dict[str, Any] | None, now: float) -> dict[str, str]:
    if condition is None:
        return {}
    since = condition.get("lastTransitionTime")
    lines = message_lines(condition)
    return {
        "status": str(condition.get("status", "")),
        "reason": str(condition.get("reason", "")),
        "since": age(now - parse_timestamp(since)) if since else "",
        "message": lines[0] if lines else "",
    }


def _with_message(row: Row, condition: dict[str, Any] | None, stem: str) -> list[Row]:
    """``row``, then one row per further line of the condition's message (under the tree's stem)."""
    rest = message_lines(condition)[1:] if condition else []
    return [row, *(Row(stem, message=line) for line in rest)]


def _counters(obj: Manifest, desired: int | None) -> dict[str, str]:
    status = obj.get("status", {})
    current = status.get("replicas", 0)
    return {
        "replicas": f"{current}/{desired}" if desired is not None else str(current),
        "available": str(status.get("availableReplicas", 0)),
        "ready": str(status.get("readyReplicas", 0)),
        "up_to_date": str(status.get("upToDateReplicas", 0)),
    }


def _name(obj: Manifest) -> str:
    return str(obj["metadata"]["name"])


@dataclass(frozen=True)
class _Options:
    now: float
    show: frozenset[str]

    def shows(self, kind: str, name: str) -> bool:
        return "all" in self.show or kind in self.show or f"{kind}/{name}" in self.show


def _object_rows(obj: Manifest, label: str, condition_type: str, stem: str, opts: _Options, **cells: str) -> list[Row]:
    """An object's row (its summary condition), its message's further lines, and (when chosen) all its conditions."""
    condition = get_condition(obj, condition_type)
    row = Row(label, **cells, **_condition_cells(condition, opts.now), kind=obj["kind"], object_name=_name(obj))
    rows = _with_message(row, condition, stem)
    if opts.shows(obj["kind"], _name(obj)):
        rows += _all_conditions(obj.get("status", {}).get("conditions", []), stem, opts.now)
    return rows


def _all_conditions(conditions: list[dict[str, Any]], stem: str, now: float) -> list[Row]:
    rows: list[Row] = []
    for index, condition in enumerate(conditions):
        last = index == len(conditions) - 1
        branch, under = ("└─", "  ") if last else ("├─", "│ ")
        row = Row(f"{stem}{branch}{condition.get('type', '')}", **_condition_cells(condition, now))
        rows += _with_message(replace(row, condition=str(condition.get("type", ""))), condition, stem + under)
    return rows


def _machine_rows(machine: Manifest, prefix: str, stem: str, opts: _Options) -> list[Row]:
    flags = {
        field: str((get_condition(machine, condition) or {}).get("status", ""))
        for field, condition in (("available", "Available"), ("ready", "Ready"), ("up_to_date", "UpToDate"))
    }
    return _object_rows(machine, f"{prefix}Machine/{_name(machine)}", "Ready", stem, opts, **flags)


def describe(objects: Iterable[Manifest], now: float, show_conditions: Collection[str] = ()) -> list[Row]:
    """The tree of one workload cluster's objects.

    ``show_conditions``: ``all``, kinds (``Machine``) or ``Kind/name``; those objects' conditions are listed too."""
    opts = _Options(now, frozenset(show_conditions))
    by_kind: dict[str, list[Manifest]] = {}
    for obj in objects:
        by_kind.setdefault(obj["kind"], []).append(obj)
    rows: list[Row] = []
    for cluster in sorted(by_kind.get("Cluster", []), key=_name):
        rows += _object_rows(cluster, f"Cluster/{_name(cluster)}", "Available", "│ ", opts)
        rows += _infrastructure_rows(cluster, opts)
        machines = sorted(by_kind.get("Machine", []), key=_name)
        control_plane = [m for m in machines if CONTROL_PLANE_LABEL in m["metadata"].get("labels", {})]
        deployments = sorted(by_kind.get("MachineDeployment", []), key=_name)
        for kcp in sorted(by_kind.get("KubeadmControlPlane", []), key=_name):
            last_group = not deployments and not by_kind.get("MachinePool")
            branch, stem = ("└─", "  ") if last_group else ("├─", "│ ")
            label = f"{branch}ControlPlane - KubeadmControlPlane/{_name(kcp)}"
            counters = _counters(kcp, kcp["spec"].get("replicas"))
            rows += _object_rows(kcp, label, "Available", stem + "│ ", opts, **counters)
            rows += _children(control_plane, stem, opts)
        pools = sorted(by_kind.get("MachinePool", []), key=_name)
        workers = [*deployments, *pools]
        if workers:
            rows.append(Row("└─Workers"))
            for index, group in enumerate(workers):
                last = index == len(workers) - 1
                branch, stem = ("  └─", "    ") if last else ("  ├─", "  │ ")
                counters = _counters(group, group["spec"].get("replicas"))
                label = f"{branch}{group['kind']}/{_name(group)}"
                # a MachinePool reports no v1beta2 Available condition in CAPI v1.14: its counters tell
                rows += _object_rows(group, label, "Available", stem + "│ ", opts, **counters)
                owned = [
                    m
                    for m in machines
                    if group["kind"] == "MachineDeployment"
                    and m["metadata"].get("labels", {}).get(DEPLOYMENT_NAME_LABEL) == _name(group)
                ]
                rows += _children(owned, stem, opts)
    return rows


def _infrastructure_rows(cluster: Manifest, opts: _Options) -> list[Row]:
    """``├─ClusterInfrastructure - Kind/name``: the infrastructure cluster, as the Cluster's condition mirrors it."""
    ref = cluster.get("spec", {}).get("infrastructureRef")
    if not ref:
        return []
    condition = get_condition(cluster, "InfrastructureReady")
    label = f"├─ClusterInfrastructure - {ref.get('kind', '?')}/{ref.get('name', '?')}"
    row = Row(
        label,
        **_condition_cells(condition, opts.now),
        kind=str(ref.get("kind", "")),
        object_name=str(ref.get("name", "")),
    )
    return _with_message(row, condition, "│ │ ")


def _children(machines: list[Manifest], stem: str, opts: _Options) -> list[Row]:
    rows: list[Row] = []
    for index, machine in enumerate(machines):
        last = index == len(machines) - 1
        rows += _machine_rows(machine, f"{stem}{'└─' if last else '├─'}", f"{stem}{'  ' if last else '│ '}  ", opts)
    return rows
