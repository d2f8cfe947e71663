"""``fleetc rollout status --watch``: follow a rollout until it completes, halts or is paused.

Polls the embedded plane's state file (written by a running ``fleetc apply --local``) or the FleetRollout on a
management cluster every :data:`POLL_SECONDS`, printing each new timeline event once, like ``kubectl rollout status``.
On the embedded plane a rollout nobody runs any more (no process holds the state's run lock, and a read after
seeing that shows nothing new) ends the watch as unfinished. Caller: :mod:`fleetc.cli.steer_cmds`.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path

from fleetc.cli import management, rollout_reports
from fleetc.cli.output import machine
from fleetc.engine import local
from fleetc.rollout import Phase, RolloutView

POLL_SECONDS = 1.0
SETTLED = (Phase.COMPLETE, Phase.HALTED, Phase.PAUSED)


def follow(read: Callable[[], RolloutView], alive: Callable[[], bool], output: str) -> RolloutView:
    """Print new events until the rollout settles (or nobody runs it); the last view read."""
    console = rollout_reports.console(stderr=machine(output))
    printed = 0
    while True:
        view = read()
        for line in rollout_reports.timeline_lines(view, view.timeline[printed:]):
            console.print(line, markup=False, soft_wrap=True)
        changed, printed = printed != len(view.timeline), len(view.timeline)
        if view.phase in SETTLED:
            break
        if not changed and not alive() and _unchanged(read(), printed):
            console.print(
                f"rollout {view.name}: nobody is running it; fleetc rollout resume continues it", markup=False
            )
            return dataclasses.replace(view, stuck=True)
        time.sleep(POLL_SECONDS)
    console.print(rollout_reports.verdict_line(view, f"rollout {view.name}"), markup=False, soft_wrap=True)
    return view


def _unchanged(view: RolloutView, printed: int) -> bool:
    """Read again once the runner is gone: it may have written its last events between the read and the check."""
    return view.phase not in SETTLED and len(view.timeline) == printed


def watch_local(state: Path, output: str) -> RolloutView:
    """Follow the rollout in an embedded plane's state file."""

    def read() -> RolloutView:
        plane = local.open_plane(state=state, controllers=False)
        return local.view_of(plane, local.only_rollout(plane))

    return follow(read, lambda: local.is_running(state), output)


def watch_remote(target: management.Target, namespace: str | None, fleet: str | None, output: str) -> RolloutView:
    """Follow a FleetRollout on a management cluster (its controller runs in the cluster or in an apply)."""
    return follow(lambda: management.status(target, namespace, fleet), lambda: True, output)
