"""Steering a running ``fleetc apply --local`` from another process: ``fleetc rollout pause`` and ``resume`` edit the
state file under its lock, and the running process picks them up (it used to overwrite them with its next save)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "fleet"
TIMEOUT = 120.0


def fleetc(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fleetc", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=TIMEOUT, check=False)  # fmt: skip


def status(state: Path) -> dict[str, Any]:
    result = fleetc("rollout", "status", "--state", str(state), "--format", "json", cwd=state.parent)
    [view] = json.loads(result.stdout)["rollouts"]
    assert result.returncode == (3 if view["phase"] == "Halted" else 0), result.stdout + result.stderr
    found: dict[str, Any] = view
    return found


def wait_for(condition: Callable[[], bool], what: str, seen: list[str] | None = None) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what.format(seen=sorted(set(seen or [])))}"
        time.sleep(0.2)


def started(view: dict[str, Any]) -> set[str]:
    return {c["name"] for c in view["clusters"] if c["state"] != "Pending"}


def test_a_pause_and_a_resume_from_another_process_steer_a_running_local_apply(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "fleetc", "apply", str(EXAMPLE), "--local", "--approve", "broad", "--state", str(state),
         "--speed", "1000"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        wait_for(lambda: state.exists() and started(status(state)) != set(), "the first cluster to start")
        paused = fleetc("rollout", "pause", "--state", str(state), cwd=tmp_path)
        assert paused.returncode == 0, paused.stdout + paused.stderr
        seen: list[str] = []

        def pause_taken() -> bool:
            seen.append(status(state)["phase"])
            return seen[-1] == "Paused"

        wait_for(pause_taken, "the running apply to take the pause over (phases seen: {seen})", seen)
        before = started(status(state))
        time.sleep(4)  # 4,000 simulated seconds: more than the canary soak; an apply that lost the pause moves on
        view = status(state)
        assert view["paused"] and view["phase"] == "Paused"
        assert started(view) == before and len(before) < len(view["clusters"])
        assert process.poll() is None  # still running: it waits for a resume
        resumed = fleetc("rollout", "resume", "--state", str(state), cwd=tmp_path)
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        assert "the running fleetc apply --local carries on" in resumed.stdout
        output, _ = process.communicate(timeout=TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=10)
    assert process.returncode == 0, output
    final = status(state)
    assert final["phase"] == "Complete" and {c["state"] for c in final["clusters"]} == {"Succeeded"}
    types = [e["type"] for e in final["timeline"]]
    assert "Paused" in types and types.index("Paused") < types.index("Resumed")


def test_a_resume_with_nobody_running_the_state_runs_the_rollout_itself(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    first = fleetc("apply", str(EXAMPLE), "--local", "--approve", "broad", "--state", str(state), "--speed", "0",
                   "--fail-control-plane", "sim-canary-1", cwd=tmp_path)  # fmt: skip
    assert first.returncode == 3
    resumed = fleetc("rollout", "resume", "--state", str(state), cwd=tmp_path)
    assert "carries on" not in resumed.stdout and "rollout acme:" in resumed.stdout  # it ran the rollout itself
    retried = [e for e in status(state)["timeline"] if e["type"] == "Retried"]
    assert [e["cluster"] for e in retried] == ["sim-canary-1"]
