"""A workload cluster's CAPI objects as a tree of rows, like ``clusterctl describe cluster`` (v1beta2).

Pure: takes the objects of one cluster (Cluster, KubeadmControlPlane, MachineDeployments, Machines), returns
rows; ``fleetc status`` prints them. Works the same on the simulated plane and on a real management cluster.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from fleetc.contract.conditions import get_condition
from fleetc.contract.timestamps import parse_timestamp
from fleetc.contract.vocabulary import CONTROL_PLANE_LABEL, DEPLOYMENT_NAME_LABEL
from fleetc.core.keys import Manifest

COLUMNS = ("NAME", "REPLICAS", "AVAILABLE", "READY", "UP TO DATE", "STATUS", "REASON", "SINCE", "MESSAGE")


@dataclass(frozen=True)
class Row:
    """One line of the tree."""

    name: str
    replicas: str = ""
    available: str = ""
    ready: str = ""
    up_to_date: str = ""
    status: str = ""
    reason: str = ""
    since: str = ""
    message: str = ""

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


def _condition_cells(obj: Manifest, condition_type: str, now: float) -> dict[str, str]:
    condition = get_condition(obj, condition_type)
    if condition is None:
        return {}
    since = condition.get("lastTransitionTime")
    message = str(condition.get("message", "")).strip().splitlines()
    return {
        "status": str(condition.get("status", "")),
        "reason": str(condition.get("reason", "")),
        "since": age(now - parse_timestamp(since)) if since else "",
        "message": message[0].lstrip("* ") if message else "",
    }


def _counters(obj: Manifest, desired: int | None) -> dict[str, str]:
    status = obj.get("status", {})
    current = status.get("replicas", 0)
    return {
        "replicas": f"{current}/{desired}" if desired is not None else str(current),
        "available": str(status.get("availableReplicas", 0)),
        "ready": str(status.get("readyReplicas", 0)),
        "up_to_date": str(status.get("upToDateReplicas", 0)),
    }


def _machine_row(machine: Manifest, prefix: str, now: float) -> Row:
    flags = {
        field: (get_condition(machine, condition) or {}).get("status", "")
        for field, condition in (("available", "Available"), ("ready", "Ready"), ("up_to_date", "UpToDate"))
    }
    return Row(f"{prefix}Machine/{machine['metadata']['name']}", **flags, **_condition_cells(machine, "Ready", now))


def _name(obj: Manifest) -> str:
    return str(obj["metadata"]["name"])


def describe(objects: Iterable[Manifest], now: float) -> list[Row]:
    """The tree of one workload cluster's objects."""
    by_kind: dict[str, list[Manifest]] = {}
    for obj in objects:
        by_kind.setdefault(obj["kind"], []).append(obj)
    rows: list[Row] = []
    for cluster in sorted(by_kind.get("Cluster", []), key=_name):
        rows.append(Row(f"Cluster/{_name(cluster)}", **_condition_cells(cluster, "Available", now)))
        machines = sorted(by_kind.get("Machine", []), key=_name)
        control_plane = [m for m in machines if CONTROL_PLANE_LABEL in m["metadata"].get("labels", {})]
        deployments = sorted(by_kind.get("MachineDeployment", []), key=_name)
        for kcp in sorted(by_kind.get("KubeadmControlPlane", []), key=_name):
            last_group = not deployments
            branch, stem = ("└─", "  ") if last_group else ("├─", "│ ")
            counters = _counters(kcp, kcp["spec"].get("replicas"))
            rows.append(
                Row(
                    f"{branch}ControlPlane - KubeadmControlPlane/{_name(kcp)}",
                    **counters,
                    **_condition_cells(kcp, "Available", now),
                )
            )
            rows += _children(control_plane, stem, now)
        if deployments:
            rows.append(Row("└─Workers"))
            for index, deployment in enumerate(deployments):
                last = index == len(deployments) - 1
                branch, stem = ("  └─", "    ") if last else ("  ├─", "  │ ")
                counters = _counters(deployment, deployment["spec"].get("replicas"))
                rows.append(
                    Row(
                        f"{branch}MachineDeployment/{_name(deployment)}",
                        **counters,
                        **_condition_cells(deployment, "Available", now),
                    )
                )
                owned = [
                    m
                    for m in machines
                    if m["metadata"].get("labels", {}).get(DEPLOYMENT_NAME_LABEL) == _name(deployment)
                ]
                rows += _children(owned, stem, now)
    return rows


def _children(machines: list[Manifest], stem: str, now: float) -> list[Row]:
    return [
        _machine_row(machine, f"{stem}{'└─' if index == len(machines) - 1 else '├─'}", now)
        for index, machine in enumerate(machines)
    ]
