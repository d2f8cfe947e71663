"""The whole lifecycle on the embedded plane: ``fleetc simulate`` / ``apply --local`` / ``rollout`` / ``status``.

These run the real compiler, the simulated CAPI controllers and the rollout controller together, in virtual
time (or real time at a high speed factor), on the example fleet.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from fleetc.cli.main import cli
from fleetc.core.keys import ObjectKey
from fleetc.engine import local

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "fleet"
CANARY = "sim-canary-1"
LATER_WAVES = {"eu-prod-1", "eu-qa-1", "eu-staging-1", "us-qa-1", "us-staging-1", "eu-ml-1", "us-prod-1"}


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def simulate_json(*args: str) -> tuple[int, dict[str, Any]]:
    result = run("simulate", str(EXAMPLE), "--format", "json", *args)
    return result.exit_code, json.loads(result.output)


def test_creating_the_example_fleet_completes_with_every_cluster_healthy() -> None:
    code, payload = simulate_json()
    [rollout] = payload["rollouts"]
    assert code == 0 and rollout["phase"] == "Complete" and not payload["halted"]
    assert {c["state"] for c in rollout["clusters"]} == {"Succeeded"}
    assert len(rollout["clusters"]) == 15


def test_a_canary_control_plane_that_never_comes_up_halts_before_later_waves() -> None:
    result = run("simulate", str(EXAMPLE), "--fail-control-plane", CANARY)
    assert result.exit_code == 3
    assert f"cluster {CANARY}: Machine {CANARY}-" in result.output
    assert "HealthCheckSucceeded=False (NodeStartupTimeout)" in result.output
    code, payload = simulate_json("--fail-control-plane", CANARY)
    states = {c["name"]: c["state"] for c in payload["rollouts"][0]["clusters"]}
    assert code == 3 and states[CANARY] == "Failed"
    assert all(states[name] == "Pending" for name in LATER_WAVES)


def test_later_waves_are_never_applied_to_the_plane(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    result = run(
        "apply",
        str(EXAMPLE),
        "--local",
        "--approve",
        "broad",
        "--state",
        str(state),
        "--speed",
        "0",
        "--fail-control-plane",
        CANARY,
    )
    assert result.exit_code == 3
    plane = local.open_plane(state=state, controllers=False)
    clusters = {ObjectKey.of(c).name for c in plane.store.list("cluster.x-k8s.io", "Cluster")}
    assert CANARY in clusters and not clusters & LATER_WAVES


def test_equal_seeds_give_byte_identical_results() -> None:
    first = run("simulate", str(EXAMPLE), "--format", "json", "--seed", "7").output
    second = run("simulate", str(EXAMPLE), "--format", "json", "--seed", "7").output
    other = run("simulate", str(EXAMPLE), "--format", "json", "--seed", "8").output
    assert first == second and first != other


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=repo, check=True, capture_output=True
    )


@pytest.fixture
def bumped_repo(tmp_path: Path) -> Path:
    """A git repo with the example fleet committed, then the stable channel bumped in the working tree."""
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLE, repo / "fleet")
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    fleet_file = repo / "fleet" / "fleet.yaml"
    fleet_file.write_text(fleet_file.read_text().replace("stable: v1.34.2", "stable: v1.35.0"))
    return repo / "fleet"


def test_a_version_upgrade_rolls_out_after_creating_the_base(bumped_repo: Path) -> None:
    result = run("simulate", str(bumped_repo), "--base", "HEAD", "--format", "json")
    payload = json.loads(result.output)
    create, upgrade = payload["rollouts"]
    assert result.exit_code == 0 and create["phase"] == upgrade["phase"] == "Complete"
    versions = {c["name"]: c["version"] for c in upgrade["clusters"]}
    assert versions["eu-prod-1"] == "v1.35.0" and versions["eu-ml-1"] == "v1.34.2"  # eu-ml-1 pins its version


def test_an_upgrade_that_fails_in_the_canary_wave_halts_and_resume_after_the_fix_completes(
    bumped_repo: Path, tmp_path: Path
) -> None:
    state = tmp_path / "state.json"
    base_tree = tmp_path / "base"
    subprocess.run(["git", "worktree", "add", "-q", str(base_tree), "HEAD"], cwd=bumped_repo.parent, check=True)
    created = run(
        "apply", str(base_tree / "fleet"), "--local", "--approve", "broad", "--state", str(state), "--speed", "0"
    )
    assert created.exit_code == 0, created.output
    halted = run(
        "apply",
        str(bumped_repo),
        "--local",
        "--approve",
        "broad",
        "--state",
        str(state),
        "--speed",
        "1000000",
        "--fail-control-plane",
        "eu-prod-1@v1.35.0",
    )
    assert halted.exit_code == 3 and "cluster eu-prod-1:" in halted.output
    resumed = run("rollout", "resume", "--state", str(state))
    assert resumed.exit_code == 0, resumed.output
    status = run("rollout", "status", "--state", str(state), "--format", "json")
    [view] = json.loads(status.output)["rollouts"]
    assert view["phase"] == "Complete"
    assert {c["name"]: c["version"] for c in view["clusters"]}["eu-prod-1"] == "v1.35.0"


def test_status_shows_a_cluster_as_a_tree(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    assert (
        run("apply", str(EXAMPLE), "--local", "--approve", "broad", "--state", str(state), "--speed", "0").exit_code
        == 0
    )
    tree = run("status", "eu-prod-1", "--state", str(state)).output
    assert "Cluster/eu-prod-1" in tree and "ControlPlane - KubeadmControlPlane/eu-prod-1-" in tree
    assert tree.count("Machine/eu-prod-1-") >= 5 + 6


def test_a_killed_apply_resumes_from_its_state_with_nothing_created_twice(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    command = [
        sys.executable,
        "-m",
        "fleetc",
        "apply",
        str(EXAMPLE),
        "--local",
        "--approve",
        "broad",
        "--speed",
        "0",
        "--state",
        str(state),
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not state.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert state.exists(), "the run saved its state before it was killed"
    interrupted = local.open_plane(state=state, controllers=False)
    view = local.view_of(interrupted, local.only_rollout(interrupted))
    assert view.phase != "Complete", "killed mid-rollout"

    resumed = run("apply", str(EXAMPLE), "--local", "--approve", "broad", "--speed", "0", "--state", str(state))
    assert resumed.exit_code == 0, resumed.output
    uninterrupted = tmp_path / "uninterrupted.json"
    assert (
        run(
            "apply", str(EXAMPLE), "--local", "--approve", "broad", "--speed", "0", "--state", str(uninterrupted)
        ).exit_code
        == 0
    )
    assert object_counts(state) == object_counts(uninterrupted)


def object_counts(state: Path) -> dict[tuple[str, str], int]:
    """How many objects of each workload kind every cluster has."""
    plane = local.open_plane(state=state, controllers=False)
    counts: dict[tuple[str, str], int] = {}
    for group, kind in (
        ("controlplane.cluster.x-k8s.io", "KubeadmControlPlane"),
        ("cluster.x-k8s.io", "Machine"),
        ("cluster.x-k8s.io", "MachineDeployment"),
        ("cluster.x-k8s.io", "MachineSet"),
    ):
        for obj in plane.store.list(group, kind):
            cluster = obj["metadata"]["labels"]["cluster.x-k8s.io/cluster-name"]
            counts[(cluster, kind)] = counts.get((cluster, kind), 0) + 1
    assert counts
    return counts
