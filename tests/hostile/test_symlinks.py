"""Symlinks that leave the fleet root are refused with a diagnostic naming the link, and never followed.

Covers: on disk, a symlinked file (relative and absolute target), a symlinked folder, a symlinked fleet.yaml
and a symlink loop; in a git revision (``GitTree``), the same links as committed blobs. Links that stay inside
the root are followed (the control case).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fleetc import DiskTree, GitTree, validate_tree
from tests.loading.support import commit_all, copy_example, run_cli, shown

SMUGGLED = (
    "apiVersion: fleetc.io/v1alpha1\nkind: Cluster\nmetadata:\n  name: smuggled-1\n"
    "spec:\n  class: edge\n  provider: local-docker\n"
)


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder next to the fleet holding a valid fleet document that must never be read into the fleet."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.yaml").write_text(SMUGGLED)
    return folder


LINKS = {
    "relative-file": ("clusters/link.yaml", "../../outside/secret.yaml"),
    "absolute-file": ("clusters/link.yaml", "{outside}/secret.yaml"),
    "relative-folder": ("more", "../outside"),
    "absolute-folder": ("clusters/more", "{outside}"),
}


def _link(fleet: Path, outside: Path, name: str, target: str) -> None:
    os.symlink(target.format(outside=outside), fleet / name)


@pytest.mark.parametrize(("name", "target"), LINKS.values(), ids=LINKS.keys())
def test_disk_symlink_leaving_the_root_is_refused(fleet: Path, outside: Path, name: str, target: str) -> None:
    _link(fleet, outside, name, target)

    outcome = run_cli("validate", "fleet")

    assert outcome.exit_code == 1, outcome.output
    assert "Traceback" not in outcome.output
    reported = outcome.lines_about(f"fleet/{name}")
    assert len(reported) == 1, outcome.output
    assert "symlink" in reported[0] and "outside" in reported[0]
    assert "smuggled-1" not in outcome.output


@pytest.mark.parametrize(("name", "target"), LINKS.values(), ids=LINKS.keys())
def test_git_symlink_leaving_the_root_is_refused(fleet: Path, outside: Path, name: str, target: str) -> None:
    _link(fleet, outside, name, target)
    commit_all(fleet)

    result = validate_tree(GitTree.open(fleet, "HEAD"))

    assert result.fleet is not None
    assert "smuggled-1" not in result.fleet.clusters
    reported = [d for d in result.diagnostics if d.location.path.removeprefix("HEAD:").lstrip("/") == name]
    assert len(reported) == 1, shown(result)
    assert "symlink" in reported[0].message


def test_git_symlink_leaving_the_root_fails_the_cli(fleet: Path, outside: Path) -> None:
    _link(fleet, outside, "clusters/link.yaml", "../../outside/secret.yaml")
    commit_all(fleet)

    outcome = run_cli("validate", "--rev", "HEAD", "fleet")

    assert outcome.exit_code == 1, outcome.output
    assert "Traceback" not in outcome.output
    assert "clusters/link.yaml: symlink" in outcome.output


def test_git_symlink_out_of_a_subfolder_fleet_is_refused(tmp_path: Path) -> None:
    """In a subfolder, a link may stay inside the repository and still leave the fleet root."""
    repo = tmp_path / "repo"
    fleet = copy_example(repo / "fleet")
    (repo / "shared").mkdir()
    (repo / "shared" / "cluster.yaml").write_text(SMUGGLED)
    os.symlink("../../shared/cluster.yaml", fleet / "clusters" / "shared.yaml")
    commit_all(repo)

    result = validate_tree(GitTree.open(fleet, "HEAD"))

    assert result.fleet is not None
    assert "smuggled-1" not in result.fleet.clusters
    assert [d.location.path for d in result.diagnostics] == ["HEAD:fleet/clusters/shared.yaml"]


@pytest.mark.parametrize("kind", ["disk", "git"])
def test_symlinks_inside_the_root_are_followed(fleet: Path, kind: str) -> None:
    """Control: a link to a file kept in a hidden folder of the same fleet is read like any file."""
    (fleet / ".shared").mkdir()
    (fleet / ".shared" / "cluster.yaml").write_text(SMUGGLED.replace("smuggled-1", "linked-1"))
    os.symlink("../.shared/cluster.yaml", fleet / "clusters" / "linked.yaml")
    if kind == "git":
        commit_all(fleet)

    result = validate_tree(GitTree.open(fleet, "HEAD") if kind == "git" else DiskTree.open(fleet))

    assert result.ok, shown(result)
    assert result.fleet is not None
    assert "linked-1" in result.fleet.clusters


def test_a_symlink_loop_is_reported(fleet: Path) -> None:
    os.symlink("loop-b.yaml", fleet / "clusters" / "loop-a.yaml")
    os.symlink("loop-a.yaml", fleet / "clusters" / "loop-b.yaml")

    outcome = run_cli("validate", "fleet")

    assert "Traceback" not in outcome.output
    assert outcome.exit_code == 1, outcome.output
    assert outcome.lines_about("fleet/clusters/loop-a.yaml"), outcome.output


def test_a_symlinked_fleet_yaml_leaving_the_root_is_named(fleet: Path, outside: Path) -> None:
    """The fleet file itself is a link out of the root: the diagnostic says so, on fleet/fleet.yaml."""
    (fleet / "fleet.yaml").rename(outside / "fleet.yaml")
    os.symlink("../outside/fleet.yaml", fleet / "fleet.yaml")

    outcome = run_cli("validate", "fleet")

    assert outcome.exit_code == 1, outcome.output
    assert "Traceback" not in outcome.output
    reported = outcome.lines_about("fleet/fleet.yaml")
    assert reported, outcome.output
    assert "symlink" in reported[0]
