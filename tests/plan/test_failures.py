"""Failure honesty: a side that does not load, validate or compile is reported as such, never diffed.

Whichever side fails, the output names the side, the stage and the diagnostics, exits 1, and lists no cluster
as created or deleted. A shallow CI clone works when the base commit is present, and says how to fetch it when not.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.loading.support import git
from tests.plan.support import FleetRepo, run


def _break_base(repo: FleetRepo) -> None:
    """Commit a revision whose fleet has a dangling reference, then fix it in the working tree."""
    repo.cluster("eu-2")["spec"]["class"] = "standrd"
    repo.commit("broken")
    repo.cluster("eu-2")["spec"]["class"] = "standard"
    repo.write()


def test_a_base_that_does_not_validate_is_a_base_failure_not_everything_added(repo: FleetRepo) -> None:
    _break_base(repo)

    result = run("diff", "fleet", "--base", "HEAD", "--format", "json")

    assert result.exit_code == 0, "a broken base must not block the pull request that fixes it"
    report = json.loads(result.stdout)
    assert report["base"] == {"label": "HEAD:fleet", "ok": False}
    assert report["head"]["ok"]
    [failure] = report["failures"]
    assert (failure["side"], failure["stage"]) == ("base", "validate")
    assert any("no ClusterClass 'standrd'" in d["message"] for d in failure["diagnostics"])
    assert failure["diagnostics"][0]["file"] == "HEAD:fleet/clusters.yaml"
    assert report["clusters"] == [] and report["objects"] == [] and not report["changed"]


@pytest.mark.parametrize("output", ["text", "markdown"])
def test_a_base_failure_is_said_first_in_every_format_and_lists_no_cluster(repo: FleetRepo, output: str) -> None:
    _break_base(repo)

    result = run("diff", "fleet", "--base", "HEAD", "--format", output)

    assert result.exit_code == 0
    assert "failed to validate" in result.stdout.splitlines()[1 if output == "text" else 4]
    assert "spec.class: no ClusterClass 'standrd'" in result.stdout
    for word in ("created", "DELETED", "eu-1"):
        assert word not in result.stdout


def test_a_head_that_does_not_parse_is_a_head_failure(repo: FleetRepo) -> None:
    repo.builder.raw("clusters.yaml", "apiVersion: fleetc.io/v1alpha1\nkind: Cluster\nmetadata: {name: [\n")
    repo.write()

    report = json.loads(run("diff", "fleet", "--base", "HEAD", "--format", "json").stdout)

    [failure] = report["failures"]
    assert (failure["side"], failure["stage"], failure["label"]) == ("head", "validate", "working tree (fleet)")
    assert failure["diagnostics"][0]["file"] == "fleet/clusters.yaml"


def test_both_sides_failing_are_both_reported(repo: FleetRepo) -> None:
    _break_base(repo)
    repo.remove_cluster("eu-1")
    repo.builder.set("Cluster", "eu-2", "spec.provider", "nowhere")
    repo.write()

    report = json.loads(run("diff", "fleet", "--base", "HEAD", "--format", "json").stdout)

    assert [f["side"] for f in report["failures"]] == ["base", "head"]


def test_an_unknown_base_revision_is_a_load_failure(repo: FleetRepo) -> None:
    result = run("diff", "fleet", "--base", "no-such-branch")

    assert result.exit_code == 1
    assert "base (no-such-branch) failed to load: no-such-branch: no such git revision" in result.stdout


def test_a_fleet_folder_missing_at_the_base_is_a_load_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "README").write_text("no fleet yet\n")
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "empty")
    monkeypatch.chdir(tmp_path)
    from tests.plan.support import new_repo

    new_repo(tmp_path)

    result = run("diff", "fleet", "--base", "HEAD~1")

    assert result.exit_code == 1
    assert "failed to load" in result.stdout and "not present at HEAD~1" in result.stdout


def _clone(source: Path, target: Path, depth: int) -> Path:
    subprocess.run(
        ["git", "clone", "-q", f"--depth={depth}", f"file://{source}", str(target)], check=True, capture_output=True
    )
    return target


def test_a_shallow_clone_diffs_when_the_base_commit_is_present(
    repo: FleetRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo.builder.set("Fleet", None, "spec.versions.channels.stable", "v1.35.0")
    repo.commit("bump")
    clone = _clone(repo.root, tmp_path / "ci", depth=2)
    monkeypatch.chdir(clone)
    assert git(clone, "rev-parse", "--is-shallow-repository").strip() == "true"

    result = run("diff", "fleet", "--base", "HEAD~1", "--exit-code")

    assert result.exit_code == 1, result.output
    assert "Kubernetes v1.34.2 → v1.35.0 — 5 clusters" in result.stdout


def test_a_shallow_clone_without_the_base_commit_says_how_to_fetch_it(
    repo: FleetRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo.commit("second")
    clone = _clone(repo.root, tmp_path / "ci", depth=1)
    monkeypatch.chdir(clone)

    result = run("diff", "fleet", "--base", "HEAD~1")

    assert result.exit_code == 1
    assert "failed to load" in result.stdout
    assert "fetch-depth: 0" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["diff"], "give --base REF"),
        (["diff", "--head", "HEAD"], "--head needs --base"),
        (["diff", "fleet", "fleet", "--base", "HEAD"], "at most one fleet ROOT"),
        (["diff", "--base", "HEAD", "--format", "xml"], "Invalid value for '-o' / '--output' / '--format'"),
    ],
)
def test_usage_errors_exit_2(repo: FleetRepo, args: list[str], message: str) -> None:
    result = run(*args)

    assert result.exit_code == 2
    assert message in result.stderr


def test_head_can_be_a_revision_too_whatever_the_working_tree_holds(repo: FleetRepo) -> None:
    repo.builder.set("Fleet", None, "spec.versions.channels.stable", "v1.35.0")
    repo.commit("bump")
    (repo.fleet / "clusters.yaml").write_text("not: [valid\n")

    result = run("diff", "fleet", "--base", "HEAD~1", "--head", "HEAD", "--format", "json")

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["head"] == {"label": "HEAD:fleet", "ok": True}
    assert report["summary"]["byEffect"] == {"upgrade": 5}
