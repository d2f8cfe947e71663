"""The CI examples work as written (issue 11): their shell runs for real in a shallow, single-branch clone.

The GitLab job's ``script`` is run with bash in a clone made the way GitLab makes it (depth 1, one branch), with
the real git and fleetc and a stand-in ``curl`` that records the note it would post (the only thing not real: the
GitLab API). The GitHub workflow's ``run`` blocks are run the same way with the variables Actions sets. The
fleetc failure hint's fetch command is run as printed. How the examples install fleetc is checked against PEP 508
(a git repository pinned at a commit: no package index release exists).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement

from fleetc.plan.formats.markdown import MARKER
from tests.loading.support import git
from tests.plan.history import History, build_history

EXAMPLES = Path(__file__).parents[2] / "examples" / "ci"
README = Path(__file__).parents[2] / "README.md"
VENV_BIN = Path(sys.executable).parent
"""Where the test run's ``fleetc`` is (the CI example's ``pip install`` would put it on the PATH)."""
FAKE_CURL = """#!/bin/sh
# Stands in for the GitLab API: no note exists yet; a POST or PUT records the note's body.
case "$*" in
  *--request*) for a in "$@"; do case "$a" in @*) cp "${a#@}" "$CURL_LOG/posted.json";; esac; done ;;
  *) echo '[]' ;;
esac
"""


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> History:
    """The history (main moves on after the ``scale`` branch is cut: see :func:`_main_moves_on`)."""
    built = build_history(tmp_path_factory.mktemp("history"))
    _main_moves_on(built)
    return built


def _main_moves_on(history: History) -> None:
    """main gets a newer commit (the stable channel moves to v1.35.0) after the merge requests branched off."""
    repo = history.repo
    repo.builder.set("Fleet", None, "spec.versions.channels.stable", "v1.35.0")
    history.commits["main-later"] = repo.commit("stable moves to v1.35.0")


def _clone(history: History, branch: str, target: Path) -> Path:
    """A CI-style clone: depth 1, the merge request's branch only."""
    subprocess.run(
        [
            "git",
            "clone",
            "-q",
            "--depth=1",
            "--single-branch",
            "--branch",
            branch,
            f"file://{history.root}",
            str(target),
        ],
        check=True,
        capture_output=True,
    )
    return target


def _environment(tmp_path: Path, **variables: str) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    curl = bin_dir / "curl"
    curl.write_text(FAKE_CURL)
    curl.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "FLEETC_"))}
    return {**env, **variables, "PATH": f"{bin_dir}:{VENV_BIN}:{env['PATH']}", "CURL_LOG": str(tmp_path)}


def _gitlab_script() -> str:
    job = yaml.safe_load((EXAMPLES / "gitlab-ci.yml").read_text())["fleetc"]
    return "\n".join(job["script"])


def _run_gitlab(clone: Path, tmp_path: Path, base_sha: str) -> subprocess.CompletedProcess[str]:
    env = _environment(
        tmp_path,
        FLEET="fleet",
        CI_MERGE_REQUEST_DIFF_BASE_SHA=base_sha,
        CI_API_V4_URL="https://gitlab.invalid/api/v4",
        CI_PROJECT_ID="1",
        CI_MERGE_REQUEST_IID="7",
        FLEETC_GITLAB_TOKEN="t",
    )
    return subprocess.run(
        ["bash", "-eo", "pipefail", "-c", _gitlab_script()],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def _posted(tmp_path: Path) -> str:
    body = json.loads((tmp_path / "posted.json").read_text())["body"]
    assert isinstance(body, str)
    return body


def test_gitlab_compares_against_the_merge_base_not_the_target_branch_tip(history: History, tmp_path: Path) -> None:
    clone = _clone(history, "scale", tmp_path / "clone")

    done = _run_gitlab(clone, tmp_path, history.commits["base"])

    assert done.returncode == 0, done.stdout + done.stderr
    note = _posted(tmp_path)
    assert note.startswith(MARKER)
    assert "scale general 3 → 5" in note
    assert "v1.35.0" not in note and "policy error" not in note  # main's newer commit is not shown as reverted


def test_gitlab_still_updates_the_note_when_validation_fails(history: History, tmp_path: Path) -> None:
    clone = _clone(history, "broken", tmp_path / "clone")

    done = _run_gitlab(clone, tmp_path, history.commits["base"])

    assert done.returncode == 1
    note = _posted(tmp_path)
    assert "The head side" in note and "failed to validate" in note
    assert (clone / "fleetc-report.json").is_file()


def test_gitlab_fails_on_deletions_after_posting_the_note(history: History, tmp_path: Path) -> None:
    clone = _clone(history, "deletion", tmp_path / "clone")

    done = _run_gitlab(clone, tmp_path, history.commits["marked"])

    assert done.returncode == 1
    assert "will be DELETED" in _posted(tmp_path)


def _github_steps() -> dict[str, dict[str, Any]]:
    workflow = yaml.safe_load((EXAMPLES / "github-actions.yml").read_text())
    return {step.get("name", step.get("uses", "")): step for step in workflow["jobs"]["fleetc"]["steps"]}


def test_github_runs_validate_diff_and_the_comment_even_when_validation_fails(history: History, tmp_path: Path) -> None:
    steps = _github_steps()
    clone = _clone(history, "broken", tmp_path / "clone")
    output, summary = tmp_path / "output", tmp_path / "summary"
    env = _environment(
        tmp_path,
        FLEET="fleet",
        BASE_SHA=history.commits["base"],
        GITHUB_OUTPUT=str(output),
        GITHUB_STEP_SUMMARY=str(summary),
    )
    names = [name for name in steps if name.startswith(("Fetch", "Validate", "Diff"))]
    for name in names:
        done = subprocess.run(
            ["bash", "-e", "-c", steps[name]["run"]], cwd=clone, env=env, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, f"{name}: {done.stderr}"  # a failing fleetc does not stop the job here

    assert output.read_text().splitlines() == ["exit=1", "exit=1"]
    assert "failed to validate" in (clone / "fleetc-diff.md").read_text()
    assert json.loads((clone / "fleetc-report.json").read_text())["head"]["ok"] is False
    post = next(step for name, step in steps.items() if name.startswith("Post"))
    fail = next(step for name, step in steps.items() if name.startswith("Fail"))
    assert post["if"].startswith("always() && ")
    assert "github.event.pull_request.head.repo.full_name == github.repository" in post["if"]  # the fork guard
    assert list(steps).index(post["name"]) < list(steps).index(fail["name"])
    assert "steps.validate.outputs.exit != '0'" in fail["if"]


def test_the_shallow_clone_hint_fetches_with_a_refspec_that_works_in_a_single_branch_clone(
    history: History, tmp_path: Path
) -> None:
    clone = _clone(history, "scale", tmp_path / "clone")
    env = _environment(tmp_path)

    first = subprocess.run(
        ["fleetc", "diff", "fleet", "--base", "origin/main"],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert first.returncode == 1
    [command] = re.findall(r"fetch the base commit first: (git fetch [^(]+?) \(", first.stdout)
    assert "+refs/heads/main:refs/remotes/origin/main" in command
    subprocess.run(["bash", "-c", command], cwd=clone, env=env, check=True, capture_output=True)
    second = subprocess.run(
        ["fleetc", "diff", "fleet", "--base", "origin/main"],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )

    # The base is read now (main has moved on since the branch was cut: that is the GitLab example's point).
    assert "failed to load" not in second.stdout
    assert "scale general 3 → 5" in second.stdout


def test_a_plain_fetch_of_the_branch_would_not_have_worked_in_that_clone(history: History, tmp_path: Path) -> None:
    """Why the refspec: ``git fetch origin main`` in a single-branch clone leaves ``origin/main`` missing."""
    clone = _clone(history, "scale", tmp_path / "clone")
    git(clone, "fetch", "-q", "--depth=1", "origin", "main")

    assert (
        subprocess.run(
            ["git", "rev-parse", "--verify", "-q", "origin/main"], cwd=clone, capture_output=True, check=False
        ).returncode
        != 0
    )


def _pin(name: str) -> str:
    example = yaml.safe_load((EXAMPLES / name).read_text())
    variables = example["env"] if name == "github-actions.yml" else example["fleetc"]["variables"]
    assert "FLEETC" in variables, f"{name} says where fleetc is installed from in FLEETC"
    return str(variables["FLEETC"])


@pytest.mark.parametrize("name", ["github-actions.yml", "gitlab-ci.yml"])
def test_the_ci_examples_install_fleetc_from_its_git_repository_pinned_at_a_commit(name: str) -> None:
    requirement = Requirement(_pin(name))

    assert requirement.name == "fleetc"
    assert requirement.url is not None and requirement.url.startswith("git+https://")
    assert re.search(r"@[0-9a-f]{40}$", requirement.url), f"{name}: pin a full commit id"
    text = (EXAMPLES / name).read_text()
    assert 'pip install "$FLEETC"' in text or 'pip install --quiet "$FLEETC"' in text
    assert "pip install fleetc" not in text


def test_the_readme_pre_commit_snippet_pins_the_git_repository_at_a_commit() -> None:
    readme = README.read_text()
    block = readme[readme.index("### pre-commit") :]
    snippet = yaml.safe_load(
        block[block.index("```yaml") + len("```yaml") : block.index("```", block.index("```yaml") + 7)]
    )
    [repo] = snippet["repos"]
    hooks = yaml.safe_load((README.parent / ".pre-commit-hooks.yaml").read_text())

    assert re.fullmatch(r"[0-9a-f]{40}", repo["rev"]), "pre-commit needs a tag or a full commit id; no tag exists"
    assert repo["repo"].startswith("https://")
    assert [hook["id"] for hook in repo["hooks"]] == [hooks[0]["id"]]
    assert "no package index release" in block[: block.index("### ", 5)]
