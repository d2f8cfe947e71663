"""Reading a fleet from a git revision (``GitTree``, ``fleetc validate --rev``) rather than from the files.

Covers: a committed revision is read even after the working tree changed, older revisions, a fleet in a
subfolder of the repository, unknown revisions and non-repositories (``SourceError``), a folder that did not
exist at the revision, diagnostic paths that git itself can resolve, and the CLI ``--rev`` option.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from fleetc import DiskTree, FleetNotFoundError, GitTree, SourceError, validate_tree
from tests.loading.support import EXAMPLE_FLEET, commit_all, copy_example, git, run_cli, shown

BROKEN = "apiVersion: fleetc.io/v1alpha1\nkind: Cluster\nmetadata: {name: [unclosed\n"
EXTRA_CLUSTER = (
    "apiVersion: fleetc.io/v1alpha1\nkind: Cluster\nmetadata:\n  name: added-later-1\n"
    "spec:\n  class: edge\n  provider: local-docker\n"
)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git repository whose root is a committed copy of the example fleet; the current folder is the repo."""
    root = copy_example(tmp_path / "repo")
    commit_all(root, "fleet")
    monkeypatch.chdir(root)
    return root


def test_committed_revision_is_read_even_when_the_working_tree_is_broken(repo: Path) -> None:
    (repo / "clusters" / "prod.yaml").write_text(BROKEN)

    at_head = validate_tree(GitTree.open(repo, "HEAD"))
    on_disk = validate_tree(DiskTree.open(repo))

    assert at_head.ok, shown(at_head)
    assert not on_disk.ok
    assert {d.location.path for d in on_disk.diagnostics} == {f"{DiskTree.open(repo).label}/clusters/prod.yaml"}


def test_an_older_revision_is_read_as_it_was(repo: Path) -> None:
    first = git(repo, "rev-parse", "HEAD").strip()
    (repo / "clusters" / "later.yaml").write_text(EXTRA_CLUSTER)
    commit_all(repo, "add a cluster")

    before = validate_tree(GitTree.open(repo, first)).fleet
    after = validate_tree(GitTree.open(repo, "HEAD")).fleet

    assert before is not None and after is not None
    assert "added-later-1" not in before.clusters
    assert "added-later-1" in after.clusters
    assert set(after.clusters) - set(before.clusters) == {"added-later-1"}


def test_a_fleet_in_a_subfolder_of_the_repository_is_read(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    fleet = copy_example(repo / "infra" / "fleet")
    (repo / "other").mkdir()
    (repo / "other" / "broken.yaml").write_text(BROKEN)  # outside the fleet: never read
    commit_all(repo)
    (fleet / "clusters" / "prod.yaml").write_text(BROKEN)  # uncommitted

    tree = GitTree.open(fleet, "HEAD")
    result = validate_tree(tree)

    assert result.ok, shown(result)
    assert tree.label == "HEAD:infra/fleet"
    example = validate_tree(DiskTree.open(EXAMPLE_FLEET)).fleet
    assert result.fleet is not None and example is not None
    assert result.fleet.clusters.keys() == example.clusters.keys()


@pytest.mark.parametrize(
    "revision",
    ["no-such-branch", "HEAD~5", "v9.9.9", "deadbeef", "0" * 40, "e" * 40, ""],
    ids=[
        "unknown-branch",
        "beyond-history",
        "unknown-tag",
        "unknown-short-sha",
        "null-sha",
        "unknown-full-sha",
        "empty",
    ],
)
def test_an_unknown_revision_raises_source_error(repo: Path, revision: str) -> None:
    with pytest.raises(SourceError, match="revision"):
        GitTree.open(repo, revision)


def test_a_revision_naming_a_blob_raises_source_error(repo: Path) -> None:
    blob = git(repo, "rev-parse", "HEAD:fleet.yaml").strip()
    with pytest.raises(SourceError):
        GitTree.open(repo, blob)


def test_a_folder_outside_any_repository_raises_source_error(tmp_path: Path) -> None:
    plain = copy_example(tmp_path / "plain")
    with pytest.raises(SourceError, match="not inside a git repository"):
        GitTree.open(plain, "HEAD")


def test_a_folder_missing_at_the_revision_is_fleet_not_found(repo: Path) -> None:
    copy_example(repo / "second")  # exists on disk, never committed
    with pytest.raises(FleetNotFoundError, match="not present"):
        validate_tree(GitTree.open(repo / "second", "HEAD"))


@pytest.mark.parametrize("subfolder", ["", "infra/fleet"], ids=["fleet-at-repo-root", "fleet-in-subfolder"])
def test_diagnostic_paths_are_git_object_names(tmp_path: Path, subfolder: str) -> None:
    """``REV:path`` in a diagnostic is what ``git show`` takes, so a user can open the blob that was read."""
    repo = tmp_path / "repo"
    fleet = copy_example(repo / subfolder if subfolder else repo)
    (fleet / "clusters" / "broken.yaml").write_text(BROKEN)
    commit_all(repo)

    result = validate_tree(GitTree.open(fleet, "HEAD"))
    (path,) = {d.location.path for d in result.diagnostics}

    shown_blob = subprocess.run(["git", "-C", str(repo), "show", path], capture_output=True, check=False)
    assert shown_blob.returncode == 0, f"{path!r} is not a git object name: {shown_blob.stderr.decode()}"
    assert shown_blob.stdout.decode() == BROKEN


def test_cli_validates_the_revision_not_the_working_tree(repo: Path) -> None:
    (repo / "clusters" / "prod.yaml").write_text(BROKEN)

    at_head = run_cli("validate", "--rev", "HEAD", str(repo))
    on_disk = run_cli("validate", str(repo))

    assert at_head.exit_code == 0, at_head.output
    assert "valid" in at_head.output.splitlines()[-1]
    assert on_disk.exit_code == 1, on_disk.output
    assert "clusters/prod.yaml:" in on_disk.output


def test_cli_reports_errors_committed_at_the_revision(repo: Path) -> None:
    (repo / "clusters" / "prod.yaml").write_text(BROKEN)
    commit_all(repo, "break prod")
    git(repo, "checkout", "-q", "HEAD~1", "--", "clusters/prod.yaml")  # working tree is fine again

    at_head = run_cli("validate", "--rev", "HEAD", ".")
    before = run_cli("validate", "--rev", "HEAD~1", ".")

    assert at_head.exit_code == 1, at_head.output
    assert at_head.lines_about("HEAD:clusters/prod.yaml") or at_head.lines_about("HEAD:/clusters/prod.yaml")
    assert before.exit_code == 0, before.output


@pytest.mark.parametrize("revision", ["no-such-branch", "0" * 40], ids=["unknown-branch", "null-sha"])
def test_cli_unknown_revision_is_a_usage_error_without_traceback(repo: Path, revision: str) -> None:
    """The null SHA is what CI systems pass as the "before" revision of a newly pushed branch."""
    outcome = run_cli("validate", "--rev", revision, str(repo))

    assert outcome.exit_code == 2, outcome.output
    assert revision in outcome.output
    assert "Traceback" not in outcome.output
