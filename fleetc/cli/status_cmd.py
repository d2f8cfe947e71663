"""``fleetc status [CLUSTER]``: one cluster's CAPI objects as a tree, or the whole fleet at a glance.

With CLUSTER: the tree of :mod:`fleetc.runtime.describe` (like ``clusterctl describe cluster``: the infrastructure
row, multi-line condition messages kept, ``--show-conditions``). Without: the rollout's verdict line, then one row
per cluster with its rollout state and what CAPI says of it now (Available, control plane and worker machines
ready/desired). On the embedded plane or a management cluster (``--context``). ``-o json|yaml`` prints the
``ClusterStatus`` / ``FleetStatus`` documents of ``docs/output.md``. Exit 3 when the rollout halted, else 0.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import click
from rich.table import Table

from fleetc import rollout
from fleetc.cli import management, rollout_reports
from fleetc.cli.errors import handle_errors
from fleetc.cli.output import emit, machine, output_option
from fleetc.cli.steer_cmds import _existing, _remote_options, _state_option
from fleetc.contract.conditions import get_condition
from fleetc.contract.vocabulary import CLUSTER, CLUSTER_NAME_LABEL, KCP, MACHINE_DEPLOYMENT, MACHINE_POOL
from fleetc.core.errors import ExitCode
from fleetc.core.keys import Manifest
from fleetc.engine import local
from fleetc.rollout import RolloutView
from fleetc.runtime.clock import RealClock
from fleetc.runtime.describe import Row, describe, message_lines
from fleetc.runtime.store import Store

STATUS_VERSION = 1


@click.command()
@click.argument("cluster", required=False)
@_state_option
@_remote_options
@output_option()
@click.option(
    "--show-conditions",
    metavar="KIND[,KIND/NAME…]|all",
    default="",
    help="Also list every condition of these objects (kinds such as Machine, or Kind/name; all for every object).",
)
@handle_errors
def status(
    cluster: str | None,
    state: str | None,
    kubeconfig: str | None,
    context: str | None,
    namespace: str | None,
    fleet: str | None,
    output: str,
    show_conditions: str,
) -> None:
    """A cluster's CAPI objects as a tree (like clusterctl describe cluster), or the whole fleet at a glance."""
    shown = frozenset(part.strip() for part in show_conditions.split(",") if part.strip())
    if shown and cluster is None:
        raise click.UsageError("--show-conditions needs a CLUSTER")
    target = management.Target(kubeconfig, context)
    if target.chosen:
        store = target.connect()
        try:
            view = management.rollout_view(store, namespace, fleet)
            _show(store, view, cluster, RealClock().now(), output, shown)
        finally:
            store.close()
    else:
        plane = local.open_plane(state=_existing(state), controllers=False)
        view = local.view_of(plane, local.only_rollout(plane))
        _show(plane.store, view, cluster, plane.clock.now(), output, shown)
    if view.halted:
        sys.exit(ExitCode.HALTED)


def _show(store: Store, view: RolloutView, cluster: str | None, now: float, output: str, shown: frozenset[str]) -> None:
    if cluster is None:
        listed = _summary_objects(store, {entry.namespace for entry in view.clusters})
        summaries = [
            _summary(entry.to_dict(), listed.get((entry.namespace, entry.name), {})) for entry in view.clusters
        ]
        if machine(output):
            emit(_fleet_payload(view, summaries), output)
            return
        console = rollout_reports.console()
        console.print(rollout_reports.verdict_line(view, f"rollout {view.name}"), markup=False, soft_wrap=True)
        console.print()
        console.print(_fleet_table(view, summaries))
        return
    entry = next((c for c in view.clusters if c.name == cluster), None)
    if entry is None:
        raise click.BadParameter(f"no cluster {cluster} in the rollout", param_hint="CLUSTER")
    found = rollout.cluster_objects(store, entry.namespace, cluster)
    objects = [*([found.cluster] if found.cluster else []), *found.control_planes, *found.machine_deployments,
               *found.machine_pools,
               *found.machines]  # fmt: skip
    rows = describe(objects, now, shown)
    if machine(output):
        emit(_cluster_payload(entry.to_dict(), objects, rows), output)
        return
    rollout_reports.console().print(rollout_reports.describe_table(rows))


def _summary_objects(store: Store, namespaces: set[str]) -> dict[tuple[str, str], dict[str, list[Manifest]]]:
    """(namespace, cluster) → kind → objects: Clusters, control planes, MachineDeployments and MachinePools, one
    list per kind."""
    found: dict[tuple[str, str], dict[str, list[Manifest]]] = {}
    for namespace in sorted(namespaces):
        for group, kind in (CLUSTER, KCP, MACHINE_DEPLOYMENT, MACHINE_POOL):
            for obj in store.list(group, kind, namespace):
                labels = obj["metadata"].get("labels", {})
                owner = obj["metadata"]["name"] if kind == "Cluster" else labels.get(CLUSTER_NAME_LABEL)
                if owner:
                    found.setdefault((namespace, owner), {}).setdefault(kind, []).append(obj)
    return found


def _summary(entry: dict[str, Any], objects: dict[str, list[Manifest]]) -> dict[str, Any]:
    """What CAPI says of one cluster now: Available, control plane and worker machines ready of desired."""
    clusters = objects.get("Cluster", [])
    available = get_condition(clusters[0], "Available") if clusters else None
    return {
        **entry,
        "available": available.get("status", "Unknown") if available else None,
        "availableMessage": message_lines(available) if available else [],
        "controlPlane": _ready_of(objects.get("KubeadmControlPlane", [])),
        "workers": _ready_of([*objects.get("MachineDeployment", []), *objects.get("MachinePool", [])]),
    }


def _ready_of(objects: Sequence[Manifest]) -> dict[str, int]:
    return {
        "ready": sum(int(o.get("status", {}).get("readyReplicas", 0) or 0) for o in objects),
        "desired": sum(int(o.get("spec", {}).get("replicas", 0) or 0) for o in objects),
    }


def _fleet_table(view: RolloutView, summaries: list[dict[str, Any]]) -> Table:
    table = Table("WAVE", "CLUSTER", "STATE", "VERSION", "AVAILABLE", "CONTROL PLANE", "WORKERS", "STARTED",
                  "FINISHED", "REASON", box=None, pad_edge=False)  # fmt: skip
    for entry, summary in zip(view.clusters, summaries, strict=True):
        started = rollout_reports.elapsed(view.started_at, entry.started_at) if entry.started_at else "-"
        finished = rollout_reports.elapsed(view.started_at, entry.finished_at) if entry.finished_at else "-"
        cp, workers = summary["controlPlane"], summary["workers"]
        table.add_row(entry.wave, entry.name, str(entry.state), entry.version, summary["available"] or "-",
                      f"{cp['ready']}/{cp['desired']}", f"{workers['ready']}/{workers['desired']}", started, finished,
                      entry.reason or "")  # fmt: skip
    return table


def _fleet_payload(view: RolloutView, summaries: list[dict[str, Any]]) -> dict[str, Any]:
    """The ``FleetStatus`` document."""
    rollout_fields = {k: v for k, v in view.to_dict().items() if k not in ("clusters", "timeline")}
    return {"kind": "FleetStatus", "version": STATUS_VERSION, "rollout": rollout_fields, "clusters": summaries}


def _cluster_payload(entry: dict[str, Any], objects: list[Manifest], rows: list[Row]) -> dict[str, Any]:
    """The ``ClusterStatus`` document: the cluster's rollout entry and each object with every condition."""
    described = {(row.kind, row.object_name): row for row in rows if row.kind}
    listed = []
    for obj in objects:
        row = described.get((obj["kind"], obj["metadata"]["name"]))
        listed.append(
            {
                "kind": obj["kind"],
                "name": obj["metadata"]["name"],
                "replicas": row.replicas if row else "",
                "available": row.available if row else "",
                "ready": row.ready if row else "",
                "upToDate": row.up_to_date if row else "",
                "conditions": obj.get("status", {}).get("conditions", []),
            }
        )
    return {"kind": "ClusterStatus", "version": STATUS_VERSION, "cluster": entry, "objects": listed}
