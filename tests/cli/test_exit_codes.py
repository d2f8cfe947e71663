"""Exit codes of ``fleetc validate`` and ``fleetc schema``: 0 valid (warnings allowed), 1 findings, 2 usage error.

Usage errors include unknown options and values, missing paths, and ``--rev`` naming no revision. Expected
errors print one line without a traceback; ``--debug`` shows it.
"""

from __future__ import annotations

from pathlib import Path

import git
import pytest

from fleetc import SourceError
from tests.builders import FleetBuilder
from tests.cli.conftest import EXAMPLE_FLEET, RunFleetc

NO_REVISION = "no such git revision here (in a shallow clone, fetch it first)"


@pytest.fixture
def fleet_repo(tmp_path: Path) -> Path:
    """A git repository whose first commit holds a valid fleet in ``fleet/``; returns the repository folder."""
    FleetBuilder.minimal().write(tmp_path / "fleet")
    repo = git.Repo.init(tmp_path)
    repo.index.add(["fleet"])
    actor = git.Actor("Test", "test@example.com")
    repo.index.commit("fleet", author=actor, committer=actor)
    return tmp_path


def test_valid_fleet_exits_0(fleetc: RunFleetc) -> None:
    result = fleetc("validate", str(EXAMPLE_FLEET))
    assert result.exit_code == 0, result.output
    assert result.stdout.rstrip().endswith("— valid")


def test_fleet_with_errors_exits_1(fleetc: RunFleetc, tmp_path: Path) -> None:
    FleetBuilder.minimal().set("Cluster", "eu-1", "spec.class", "standrd").write(tmp_path / "fleet")
    result = fleetc("validate", "fleet", cwd=tmp_path)
    assert result.exit_code == 1
    assert "fleet/clusters.yaml:8:10: spec.class: no ClusterClass 'standrd'" in result.stdout
    assert result.stdout.rstrip().endswith("— 1 error")


def test_warnings_alone_exit_0(fleetc: RunFleetc, tmp_path: Path) -> None:
    fleet = FleetBuilder.minimal().set("Fleet", None, "spec.versions.catalogue", ["v1.30.4", "v1.34.2", "v1.35.0"])
    fleet.write(tmp_path / "fleet")
    result = fleetc("validate", "fleet", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    assert ": warning: spec.versions.catalogue[0]: v1.30.4 is outside" in result.stdout
    assert result.stdout.rstrip().endswith("— valid, 1 warning")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        pytest.param(("validate", "--bogus"), "No such option '--bogus'", id="unknown-option"),
        pytest.param(
            ("validate", "--format", "xml"), "Invalid value for '-o' / '--output' / '--format'", id="unknown-format"
        ),
        pytest.param(("validate", "no/such/folder"), "does not exist", id="missing-path"),
        pytest.param(("schema", "--kind", "Clusters"), "Invalid value for '--kind'", id="unknown-kind"),
        pytest.param(("valdate",), "No such command 'valdate'", id="unknown-command"),
    ],
)
def test_usage_errors_exit_2(fleetc: RunFleetc, args: tuple[str, ...], fragment: str) -> None:
    result = fleetc(*args)
    assert result.exit_code == 2
    assert fragment in result.stderr
    assert result.stdout == ""


def test_unknown_revision_is_a_usage_error(fleetc: RunFleetc, fleet_repo: Path) -> None:
    result = fleetc("validate", "fleet", "--rev", "no-such-branch", cwd=fleet_repo)
    assert result.exit_code == 2
    assert result.stderr == f"fleetc: error: no-such-branch: {NO_REVISION}\n"


def test_full_sha_of_a_missing_commit_is_a_usage_error(fleetc: RunFleetc, fleet_repo: Path) -> None:
    """A commit CI has not fetched (shallow clone) is named by a full SHA: no traceback, exit 2."""
    missing = "0123456789abcdef0123456789abcdef01234567"
    result = fleetc("validate", "fleet", "--rev", missing, cwd=fleet_repo)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 2
    assert result.stderr == f"fleetc: error: {missing}: {NO_REVISION}\n"


def test_revision_outside_a_git_repository_is_a_usage_error(fleetc: RunFleetc, tmp_path: Path) -> None:
    FleetBuilder.minimal().write(tmp_path / "fleet")
    result = fleetc("validate", "fleet", "--rev", "HEAD", cwd=tmp_path)
    assert result.exit_code == 2
    assert result.stderr.endswith("/fleet: not inside a git repository\n")


def test_debug_shows_the_error_instead_of_one_line(fleetc: RunFleetc, fleet_repo: Path) -> None:
    result = fleetc("--debug", "validate", "fleet", "--rev", "no-such-branch", cwd=fleet_repo)
    assert isinstance(result.exception, SourceError)


def test_revision_is_read_from_git_objects_not_the_working_copy(fleetc: RunFleetc, fleet_repo: Path) -> None:
    (fleet_repo / "fleet" / "clusters.yaml").write_text("kind: Broken\n")
    at_head = fleetc("validate", "fleet", "--rev", "HEAD", cwd=fleet_repo)
    working = fleetc("validate", "fleet", cwd=fleet_repo)
    assert (at_head.exit_code, working.exit_code) == (0, 1)
    assert at_head.stdout.startswith("HEAD:fleet: fleet test: 2 clusters")


def test_folder_outside_any_fleet_exits_1_with_a_finding(fleetc: RunFleetc, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = fleetc("validate", "empty", cwd=tmp_path)
    assert result.exit_code == 1
    assert result.stdout.startswith("empty: no fleet.yaml here or in any folder above; not inside a fleet\n")


def test_files_outside_any_fleet_are_ignored(fleetc: RunFleetc, tmp_path: Path) -> None:
    (tmp_path / "notes.yaml").write_text("a: 1\n")
    result = fleetc("validate", "notes.yaml", cwd=tmp_path)
    assert result.exit_code == 0
    assert "none of the 1 given files is inside a fleet" in result.stdout


def test_a_file_validates_its_whole_fleet(fleetc: RunFleetc, tmp_path: Path) -> None:
    fleet = FleetBuilder.minimal().set("ClusterClass", "standard", "spec.controlPlane.replicas", 2)
    fleet.write(tmp_path / "fleet")
    result = fleetc("validate", "fleet/clusters.yaml", cwd=tmp_path)
    assert result.exit_code == 1
    assert "fleet/classes.yaml:7:15: spec.controlPlane.replicas: control plane replicas must be odd" in result.stdout


def test_schema_exits_0(fleetc: RunFleetc) -> None:
    assert fleetc("schema").exit_code == 0
