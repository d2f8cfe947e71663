"""A real Ctrl-C (SIGINT) to ``fleetc apply --local`` in real time: exit 130, and the state resumes to the end.
``fleetc rollout status --watch`` follows a running apply from another process until it completes."""

from __future__ import annotations

import dataclasses
import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fleetc import rollout
from fleetc.cli import watch
from fleetc.engine import local
from fleetc.load.sources import DiskTree
from fleetc.render.compile import compile_fleet
from fleetc.rollout import Phase, RolloutView
from fleetc.schema.validate import validate_tree
from tests.cli.conftest import EXAMPLE_FLEET

TIMEOUT = 120.0


def fleetc(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fleetc", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=TIMEOUT, check=False)  # fmt: skip


# A shell without job control starts background commands with SIGINT ignored, and children inherit that: so would
# fleetc here, were the suite started that way. The test stands for a terminal user pressing Ctrl-C, so the child
# sets SIGINT to its default and execs fleetc (an exec keeps a default disposition; Python then raises
# KeyboardInterrupt on it).
DEFAULT_SIGINT_THEN_FLEETC = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
    "os.execv(sys.executable, [sys.executable, '-m', 'fleetc', *sys.argv[1:]])"
)


def start_apply(state: Path, speed: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-c", DEFAULT_SIGINT_THEN_FLEETC, "apply", str(EXAMPLE_FLEET), "--local", "--approve",
               "broad", "--state", str(state), "--speed", speed]  # fmt: skip
    return subprocess.Popen(command, cwd=state.parent, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def view(state: Path) -> dict[str, Any]:
    result = fleetc("rollout", "status", "--state", str(state), "-o", "json", cwd=state.parent)
    [found] = json.loads(result.stdout)["rollouts"]
    return dict(found)


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def interrupt(process: subprocess.Popen[str], ready: Callable[[], bool], what: str) -> str:
    """Ctrl-C (SIGINT) to ``process`` once ``ready()``; its stderr once it ended (killed if it does not)."""
    try:
        wait_for(ready, what)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=10)
    return stderr


def test_ctrl_c_exits_130_and_the_rollout_resumes_to_the_end(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    process = start_apply(state, "100")  # the example rollout takes ~2h of simulated time: ~80 s at this speed
    started = lambda: state.exists() and any(c["state"] != "Pending" for c in view(state)["clusters"])  # noqa: E731
    stderr = interrupt(process, started, "a start")
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr and "fleetc: interrupted;" in stderr and "fleetc rollout resume" in stderr
    interrupted = view(state)
    assert interrupted["phase"] in ("Progressing", "Soaking")
    assert {c["state"] for c in interrupted["clusters"]} != {"Succeeded"}
    watched = fleetc("rollout", "status", "--state", str(state), "--watch", cwd=tmp_path)
    assert watched.returncode == 5 and "nobody is running it" in watched.stdout  # no process runs the state now
    resumed = fleetc("rollout", "resume", "--state", str(state), cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    final = view(state)
    assert final["phase"] == "Complete" and {c["state"] for c in final["clusters"]} == {"Succeeded"}


def test_watch_follows_a_running_apply_until_it_completes(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    process = start_apply(state, "1000")
    try:
        wait_for(state.exists, "the state file")
        watched = fleetc("rollout", "status", "--state", str(state), "--watch", cwd=tmp_path)
        process.communicate(timeout=TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=10)
    assert process.returncode == 0
    assert watched.returncode == 0, watched.stdout + watched.stderr
    lines = watched.stdout.splitlines()
    events = [line.split()[1] for line in lines[:-1]]
    assert events.count("ClusterSucceeded") == 15 and events[-1] == "Completed"
    assert lines[-1].startswith("rollout acme: Complete")


def _simulated_view() -> RolloutView:
    fleet = validate_tree(DiskTree.open(EXAMPLE_FLEET)).fleet
    assert fleet is not None
    plane = local.open_plane(seed=0)
    return local.roll_out(plane, rollout.plan_rollout(compile_fleet(fleet)))


def test_a_watch_that_finds_the_runner_gone_reads_once_more_before_calling_the_rollout_stuck(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(watch, "POLL_SECONDS", 0.0)
    final = dataclasses.replace(_simulated_view(), phase=Phase.COMPLETE)
    earlier = dataclasses.replace(final, phase=Phase.PROGRESSING, timeline=final.timeline[:-1])
    # The runner writes its last events and exits between the watch's second read and its look at the run lock.
    reads: list[RolloutView] = []

    def read() -> RolloutView:
        reads.append(earlier if len(reads) < 2 else final)
        return reads[-1]

    shown = watch.follow(read, lambda: False, "text")
    assert shown.phase == Phase.COMPLETE and not shown.stuck

    always_earlier = watch.follow(lambda: earlier, lambda: False, "text")
    assert always_earlier.stuck
