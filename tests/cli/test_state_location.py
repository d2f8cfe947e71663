"""Where the embedded plane's state lives: ``.fleetc/state.json`` at the top of the git work tree holding the fleet
(in the fleet folder outside git), found by ``rollout``/``status`` from any folder inside, ignored by git from the
first time it is created (with a note saying so)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.cli.conftest import EXAMPLE_FLEET, RunFleetc


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository holding the example fleet under ``fleets/acme``."""
    root = tmp_path / "repo"
    shutil.copytree(EXAMPLE_FLEET, root / "fleets" / "acme")
    git("init", "-q", cwd=root)
    return root


def test_apply_keeps_the_state_at_the_top_of_the_repository_and_git_ignores_it(fleetc: RunFleetc, repo: Path) -> None:
    first = fleetc("apply", "acme", "--local", "--approve", "broad", "--speed", "0", cwd=repo / "fleets")
    assert first.exit_code == 0, first.output
    state = repo / ".fleetc" / "state.json"
    assert state.is_file() and not (repo / "fleets" / ".fleetc").exists()
    assert f"keeping the embedded plane's state in {repo / '.fleetc'}/" in first.stderr
    assert ".fleetc/.gitignore holds '*'" in first.stderr
    assert git("status", "--porcelain", "--untracked-files=all", cwd=repo).splitlines() != []
    assert not [line for line in git("status", "--porcelain", "--untracked-files=all", cwd=repo).splitlines()
                if ".fleetc" in line]  # fmt: skip
    again = fleetc("apply", "fleets/acme", "--local", "--approve", "broad", "--speed", "0", cwd=repo)
    assert again.exit_code == 0 and "keeping the embedded plane's state" not in again.stderr  # said once


@pytest.mark.parametrize("where", [".", "fleets", "fleets/acme", "fleets/acme/clusters"])
def test_rollout_and_status_find_the_state_from_any_folder_in_the_repository(
    fleetc: RunFleetc, repo: Path, where: str
) -> None:
    assert fleetc("apply", "fleets/acme", "--local", "--approve", "broad", "--speed", "0", cwd=repo).exit_code == 0
    status = fleetc("rollout", "status", "-o", "json", cwd=repo / where)
    assert status.exit_code == 0, status.output
    assert json.loads(status.stdout)["rollouts"][0]["phase"] == "Complete"
    assert fleetc("status", "eu-prod-1", cwd=repo / where).exit_code == 0


def test_outside_git_the_state_is_in_the_fleet_folder(fleetc: RunFleetc, tmp_path: Path) -> None:
    fleet = tmp_path / "acme"
    shutil.copytree(EXAMPLE_FLEET, fleet)
    assert fleetc("apply", str(fleet), "--local", "--approve", "broad", "--speed", "0", cwd=tmp_path).exit_code == 0
    assert (fleet / ".fleetc" / "state.json").is_file()
    assert fleetc("rollout", "status", cwd=fleet / "clusters").exit_code == 0
    assert fleetc("validate", cwd=fleet).exit_code == 0  # the state is not read as part of the fleet


def test_no_state_here_or_above_is_a_usage_error_that_says_what_to_do(fleetc: RunFleetc, repo: Path) -> None:
    result = fleetc("rollout", "status", cwd=repo / "fleets")
    assert result.exit_code == 2
    assert "no .fleetc/state.json in this folder or any above it" in result.stderr
    assert "run fleetc apply --local first, or give --state" in result.stderr


def test_an_explicit_state_file_gets_no_gitignore(fleetc: RunFleetc, repo: Path) -> None:
    state = repo / "elsewhere" / "s.json"
    assert (
        fleetc(
            "apply", "fleets/acme", "--local", "--approve", "broad", "--speed", "0", "--state", str(state), cwd=repo
        ).exit_code
        == 0
    )
    assert state.is_file() and not (state.parent / ".gitignore").exists() and not (repo / ".fleetc").exists()
