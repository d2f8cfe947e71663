"""Faults you can trust: a fault that can never fire is a usage error, not a green run that tested nothing."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from fleetc.cli.main import cli

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fleet"


@pytest.mark.parametrize(
    ("flag", "value", "said"),
    [
        ("--fail-pool", "store-0101/general", "failingPools cluster=store-0101, pool=general: matches no worker pool"),
        (
            "--fail-control-plane",
            "no-such-cluster",
            "controlPlaneNeverReady cluster=no-such-cluster: matches no cluster",
        ),
        ("--fail-control-plane", "eu-prod-1@v1.99.0", "controlPlaneNeverReady cluster=eu-prod-1, version=v1.99.0"),
        ("--slow-boot", "us-*/gpu=3x", "slowBoots cluster=us-*, pool=gpu, factor=3.0: matches no cluster or pool"),
        ("--provider-errors", "1m+5m@nowhere", "providerErrors from=1m, for=5m, cluster=nowhere: matches no cluster"),
        ("--block-drain", "store-0101/gpu", "blockedDrains cluster=store-0101, pool=gpu: matches no cluster or pool"),
        ("--stuck-volumes", "nowhere-*", "stuckVolumes cluster=nowhere-*: matches no cluster or pool"),
        (
            "--fail-pool",
            "store-*/apps@v1.99.0",
            "failingPools cluster=store-*, pool=apps, version=v1.99.0: matches no worker pool",
        ),
        ("--slow-delete", "store-0101=10m@no-such-revision", "slowDeletions cluster=store-0101, duration=10m, "),
    ],
)
def test_a_fault_that_matches_nothing_is_a_usage_error(flag: str, value: str, said: str) -> None:
    result = CliRunner().invoke(cli, ["simulate", str(EXAMPLE), flag, value], catch_exceptions=False)
    assert result.exit_code == 2
    assert said in result.output and "Traceback" not in result.output


def test_faults_that_match_run() -> None:
    args = ["simulate", str(EXAMPLE), "--fail-pool", "store-*/apps=1", "--slow-boot", "eu-*/control-plane=2x"]
    assert CliRunner().invoke(cli, args, catch_exceptions=False).exit_code == 0


def test_faults_of_simulate_base_hit_the_rollout_and_are_timed_from_its_start(tmp_path: Path) -> None:
    """The base is created fault-free; the provider outage starts with the rollout under test."""
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLE, repo / "fleet")
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "base"]):
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=repo, check=True)
    fleet_file = repo / "fleet" / "fleet.yaml"
    fleet_file.write_text(fleet_file.read_text().replace("stable: v1.34.2", "stable: v1.35.0"))
    args = [
        "simulate",
        str(repo / "fleet"),
        "--base",
        "HEAD",
        "--format",
        "json",
        "--provider-errors",
        "0s+3h@eu-prod-1",
    ]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    created, rolled = json.loads(result.output)["rollouts"]
    assert created["phase"] == "Complete"
    assert result.exit_code == 3 and rolled["phase"] == "Halted" and "cluster eu-prod-1:" in rolled["haltReason"]
