"""Renders rollouts for people (timeline, wave and cluster tables) and for tools (JSON without wall-clock times)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from fleetc.contract.timestamps import parse_timestamp
from fleetc.rollout import Event, Phase, RolloutView
from fleetc.runtime.describe import COLUMNS, Row, age

JSON_VERSION = 1
PIPE_WIDTH = 240
"""Columns when output is not a terminal: rich would otherwise wrap tables at 80."""


def console(*, stderr: bool = False) -> Console:
    """A console that keeps table rows on one line when piped (CI logs, files); on stderr when stdout carries JSON."""
    stream = sys.stderr if stderr else sys.stdout
    return Console(highlight=False, stderr=stderr, width=None if stream.isatty() else PIPE_WIDTH)


def elapsed(start: str | None, moment: str) -> str:
    """``+1h20m`` since the rollout started (virtual or real time)."""
    if start is None:
        return moment
    return "+" + age(parse_timestamp(moment) - parse_timestamp(start))


def timeline_lines(view: RolloutView, events: Iterable[Event]) -> list[str]:
    """One line per event: offset, what, where; ``→ notify NAMES`` when the fleet's receivers hear of it."""
    receivers = view.notifications.receivers if view.notifications else []
    lines = []
    for event in events:
        where = "/".join(part for part in (event.wave, event.cluster) if part)
        text = f"{elapsed(view.started_at, event.time):>9}  {event.type:<18} {where}"
        notified = [r.name for r in receivers if event.type in r.events and not event.cluster]
        told = f"  → notify {', '.join(notified)}" if notified else ""
        lines.append(f"{text}  {event.message}".rstrip() + told)
    return lines


def verdict_line(view: RolloutView, label: str) -> str:
    """How the rollout ended."""
    took = elapsed(view.started_at, view.completed_at) if view.completed_at else ""
    if view.halted:
        return f"{label}: HALTED in wave {view.wave}: {view.halt_reason}"
    if view.stuck:
        return f"{label}: STOPPED PROGRESSING in phase {view.phase} (wave {view.wave}): nothing left to happen"
    if view.phase is Phase.PAUSED:
        return f"{label}: PAUSED in wave {view.wave}: run fleetc rollout resume to continue"
    if view.phase is Phase.AWAITING_APPROVAL:
        wave = view.awaiting_approval or view.wave
        return f"{label}: WAITING FOR APPROVAL of wave {wave}: run fleetc rollout approve {wave} to start it"
    failed = view.failed_clusters
    if failed:
        within = f"{len(failed)} failed within the failure budget: {', '.join(failed)}"
        return f"{label}: {view.phase} {took}, {within}"
    return f"{label}: {view.phase} {took}".rstrip()


def wave_table(view: RolloutView) -> Table:
    """Waves with their gates and counts."""
    table = Table(
        "WAVE",
        "CLUSTERS",
        "MAX IN FLIGHT",
        "SOAK",
        "CP DEADLINE",
        "BUDGET",
        "SUCCEEDED",
        "FAILED",
        "PENDING",
        box=None,
        pad_edge=False,
    )
    for spec, counts in view.waves:
        table.add_row(
            spec.name,
            str(spec.size),
            str(spec.max_concurrent),
            age(spec.soak_seconds),
            age(spec.control_plane_deadline_seconds),
            str(spec.failure_budget),
            str(counts.succeeded),
            str(counts.failed),
            str(counts.pending + counts.in_flight),
        )
    return table


def cluster_table(view: RolloutView) -> Table:
    """Every cluster's result."""
    table = Table("WAVE", "CLUSTER", "STATE", "VERSION", "STARTED", "FINISHED", "REASON", box=None, pad_edge=False)
    for cluster in view.clusters:
        started = elapsed(view.started_at, cluster.started_at) if cluster.started_at else "-"
        finished = elapsed(view.started_at, cluster.finished_at) if cluster.finished_at else "-"
        table.add_row(
            cluster.wave, cluster.name, str(cluster.state), cluster.version, started, finished, cluster.reason or ""
        )
    return table


def print_result(console: Console, view: RolloutView, label: str, *, timeline: bool = True) -> None:
    """Timeline, waves, clusters and the verdict."""
    if timeline:
        for line in timeline_lines(view, view.timeline):
            console.print(line, markup=False, highlight=False)
        console.print()
    console.print(wave_table(view))
    console.print()
    console.print(cluster_table(view))
    console.print()
    style = "bold red" if view.halted else "bold green"
    console.print(verdict_line(view, label), style=style, markup=False, highlight=False)


def result_payload(views: Sequence[tuple[str, RolloutView]], seed: int) -> dict[str, Any]:
    """The ``RolloutReport`` document: no wall-clock values, so equal seeds give byte-identical output."""
    return {
        "kind": "RolloutReport",
        "version": JSON_VERSION,
        "seed": seed,
        "rollouts": [{"step": step, **view.to_dict()} for step, view in views],
        "halted": any(view.halted for _, view in views),
    }


def json_result(views: Sequence[tuple[str, RolloutView]], seed: int) -> str:
    """:func:`result_payload` as JSON text (keys sorted)."""
    return json.dumps(result_payload(views, seed), indent=2, sort_keys=True)


def describe_table(rows: Sequence[Row]) -> Table:
    """The ``fleetc status CLUSTER`` tree."""
    table = Table(*COLUMNS, box=None, pad_edge=False)
    for row in rows:
        table.add_row(*row.cells())
    return table
