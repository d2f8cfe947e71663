"""Every rollout ends — complete, or halted naming why — and a fixed fault resumes at the first try.

End to end on the example fleet (compiler, simulated CAPI, rollout controller), with injected faults.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from fleetc.cli.main import cli

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "fleet"


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def simulate_json(*args: str, fleet: Path = EXAMPLE) -> tuple[int, dict[str, Any]]:
    result = run("simulate", str(fleet), "--format", "json", *args)
    assert result.output.startswith("{"), result.output
    return result.exit_code, json.loads(result.output)


def clusters(payload: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in payload["rollouts"][-1]["clusters"]}


def test_a_pool_whose_every_machine_fails_halts_instead_of_hanging() -> None:
    """CAPI replaces each failed worker at once (edge class: no maxUnhealthy), so no Machine stays flagged."""
    code, payload = simulate_json("--fail-pool", "store-0101/apps")
    store = clusters(payload)["store-0101"]
    assert code == 3 and payload["rollouts"][0]["phase"] == "Halted"
    assert store["state"] == "Failed"
    assert "HealthCheckSucceeded=False (NodeStartupTimeout)" in store["reason"]
    assert "worker Machines remediated in this attempt, over the cluster's budget of 1" in store["reason"]


def test_one_worker_that_capi_replaces_is_routine_and_the_rollout_completes() -> None:
    code, payload = simulate_json("--fail-pool", "store-0102/apps=1")
    assert code == 0 and payload["rollouts"][0]["phase"] == "Complete"
    assert clusters(payload)["store-0102"]["state"] == "Succeeded"


def upgraded_fleets(tmp_path: Path) -> tuple[Path, Path]:
    """The example fleet, and a copy whose stable channel moved to v1.35.0."""
    base, bumped = tmp_path / "base", tmp_path / "bumped"
    shutil.copytree(EXAMPLE, base)
    shutil.copytree(EXAMPLE, bumped)
    fleet_file = bumped / "fleet.yaml"
    fleet_file.write_text(fleet_file.read_text().replace("stable: v1.34.2", "stable: v1.35.0"))
    return base, bumped


def test_resume_after_fixing_a_control_plane_fault_completes_at_the_first_try(tmp_path: Path) -> None:
    """KCP remediates a machine of the halted attempt after the resume: history, not a failure of the retry."""
    base, bumped = upgraded_fleets(tmp_path)
    state = str(tmp_path / "state.json")
    assert run("apply", str(base), "--local", "--approve", "broad", "--state", state, "--speed", "0").exit_code == 0
    halted = run(
        "apply",
        str(bumped),
        "--local",
        "--approve",
        "broad",
        "--state",
        state,
        "--speed",
        "0",
        "--fail-control-plane",
        "eu-prod-1@v1.35.0",
    )
    assert halted.exit_code == 3 and "cluster eu-prod-1:" in halted.output
    resumed = run("rollout", "resume", "--state", state)
    assert resumed.exit_code == 0, resumed.output
    [view] = json.loads(run("rollout", "status", "--state", state, "--format", "json").output)["rollouts"]
    assert view["phase"] == "Complete"


def test_a_cluster_that_failed_within_the_budget_is_named_when_the_rollout_completes(tmp_path: Path) -> None:
    fleet = tmp_path / "fleet"
    shutil.copytree(EXAMPLE, fleet)
    fleet_file = fleet / "fleet.yaml"
    fleet_file.write_text(fleet_file.read_text().replace("failureBudget: 10%", "failureBudget: 25%"))
    result = run("simulate", str(fleet), "--fail-pool", "store-0101/apps")
    assert result.exit_code == 0, result.output
    last = result.output.strip().splitlines()[-1]
    assert (
        last.startswith("create: rollout acme: Complete") and "1 failed within the failure budget: store-0101" in last
    )
    code, payload = simulate_json("--fail-pool", "store-0101/apps", fleet=fleet)
    completed = [e for e in payload["rollouts"][0]["timeline"] if e["type"] == "Completed"]
    assert code == 0 and completed[0]["message"] == (
        "14 clusters succeeded, 1 failed within their waves' failure budgets: store-0101"
    )


def test_apply_on_a_paused_rollout_says_so_at_once_and_how_to_resume(tmp_path: Path) -> None:
    base, bumped = upgraded_fleets(tmp_path)
    state = str(tmp_path / "state.json")
    assert run("apply", str(base), "--local", "--approve", "broad", "--state", state, "--speed", "0").exit_code == 0
    assert run("rollout", "pause", "--state", state).exit_code == 0
    paused = run("apply", str(bumped), "--local", "--approve", "broad", "--state", state, "--speed", "0")
    assert paused.exit_code == 5, paused.output
    assert "PAUSED in wave canary: run fleetc rollout resume to continue" in paused.output
    [view] = json.loads(run("rollout", "status", "--state", state, "--format", "json").output)["rollouts"]
    assert view["phase"] == "Paused"
    assert {c["state"] for c in view["clusters"]} == {"Pending"}
    resumed = run("rollout", "resume", "--state", state)
    assert resumed.exit_code == 0, resumed.output


def test_a_short_provider_outage_at_creation_does_not_halt_a_healthy_rollout() -> None:
    """4m30s of provider API errors from the start: machines come up late, within every deadline (issue 12)."""
    code, payload = simulate_json("--provider-errors", "0s+4m30s")
    assert code == 0 and payload["rollouts"][-1]["phase"] == "Complete"
    assert {c["state"] for c in clusters(payload).values()} == {"Succeeded"}
