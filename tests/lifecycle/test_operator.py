"""The operator is in charge: waves with nothing to do do not soak, and a rolled-out revision is not replayed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from fleetc.cli.main import cli

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fleet"


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def created_then_bumped(tmp_path: Path) -> tuple[str, Path]:
    """A state holding the example fleet, and a copy of the fleet whose stable channel moved to v1.35.0."""
    state, bumped = str(tmp_path / "state.json"), tmp_path / "bumped"
    assert run("apply", str(EXAMPLE), "--local", "--approve", "broad", "--state", state, "--speed", "0").exit_code == 0
    shutil.copytree(EXAMPLE, bumped)
    fleet_file = bumped / "fleet.yaml"
    fleet_file.write_text(fleet_file.read_text().replace("stable: v1.34.2", "stable: v1.35.0"))
    return state, bumped


def status(state: str) -> dict[str, Any]:
    [view] = json.loads(run("rollout", "status", "--state", state, "--format", "json").output)["rollouts"]
    return dict(view)


def test_a_wave_with_nothing_to_do_does_not_soak(tmp_path: Path) -> None:
    """The canary clusters follow rapid (already v1.35.0): the early wave starts at once."""
    state, bumped = created_then_bumped(tmp_path)
    assert run("apply", str(bumped), "--local", "--approve", "broad", "--state", state, "--speed", "0").exit_code == 0
    timeline = status(state)["timeline"]
    kinds = [(e["type"], e.get("wave", "")) for e in timeline]
    assert ("SoakStarted", "canary") not in kinds and ("SoakStarted", "early") in kinds
    canary_done = next(e for e in timeline if e["type"] == "WaveCompleted" and e["wave"] == "canary")
    early_started = next(e for e in timeline if e["type"] == "WaveStarted" and e["wave"] == "early")
    assert canary_done["message"] == "2 succeeded, 0 failed; nothing to do, no soak"
    assert early_started["time"] == canary_done["time"] == timeline[0]["time"]


def test_re_applying_a_rolled_out_revision_says_nothing_to_do(tmp_path: Path) -> None:
    state = str(tmp_path / "state.json")
    assert run("apply", str(EXAMPLE), "--local", "--approve", "broad", "--state", state, "--speed", "0").exit_code == 0
    before = status(state)
    again = run("apply", str(EXAMPLE), "--local", "--approve", "broad", "--state", state, "--speed", "0")
    assert again.exit_code == 0
    assert "nothing to do: rollout acme already completed revision" in again.output
    assert "ClusterStarted" not in again.output and "RolloutStarted" not in again.output
    assert status(state) == before
