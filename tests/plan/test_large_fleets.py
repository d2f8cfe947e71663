"""A 2,000-cluster fleet (:mod:`fleetc.testing.synthetic`): the PR comment stays under GitHub's 65,536-character limit.

A channel bump on most of the fleet is one line of the summary table and fits whole (every cluster named in the
details); moving the fleet to another namespace deletes and re-creates all 2,000 clusters, which cannot fit, so
the comment leads with the deletion and ends with a "Truncated, N more not shown" line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from fleetc.plan.formats.markdown import COMMENT_LIMIT
from fleetc.testing.synthetic import write_fleet
from tests.loading.support import commit_all, git
from tests.plan.support import run, top

CLUSTERS = 2_000


@pytest.fixture(scope="module")
def big_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository whose HEAD holds a 2,000-cluster synthetic fleet in ``fleet/``."""
    root = tmp_path_factory.mktemp("big")
    write_fleet(root / "fleet", CLUSTERS, seed=4)
    commit_all(root, "synthetic fleet")
    return root


@pytest.fixture
def fleet_yaml(big_repo: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """``fleet.yaml`` of the big fleet, restored from HEAD after the test; the current folder is the repository."""
    monkeypatch.chdir(big_repo)
    yield big_repo / "fleet" / "fleet.yaml"
    git(big_repo, "checkout", "-q", "--", "fleet")


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_a_channel_bump_on_most_of_2000_clusters_fits_whole(fleet_yaml: Path) -> None:
    _edit(fleet_yaml, "stable: v1.34.2", "stable: v1.35.0")

    markdown = run("diff", "fleet", "--base", "HEAD", "--format", "markdown").stdout
    data = json.loads(run("diff", "fleet", "--base", "HEAD", "--format", "json").stdout)

    upgraded = [c["name"] for c in data["clusters"]]
    assert len(upgraded) > 1_500
    assert len(markdown.encode()) < COMMENT_LIMIT
    assert "Truncated" not in markdown
    row = next(line for line in top(markdown).splitlines() if line.startswith("| Kubernetes v1.34.2 → v1.35.0 |"))
    assert f"| {len(upgraded):,} |" in row
    assert all(f"`{name}`" in markdown for name in upgraded)


def test_deleting_and_recreating_2000_clusters_is_truncated_under_the_limit_after_the_alert(fleet_yaml: Path) -> None:
    _edit(fleet_yaml, "namespace: fleet-clusters", "namespace: fleet-prod")

    result = run("diff", "fleet", "--base", "HEAD", "--format", "markdown")

    markdown = result.stdout
    assert result.exit_code == 0, result.output
    assert len(markdown) < COMMENT_LIMIT and len(markdown.encode()) < COMMENT_LIMIT
    assert markdown.splitlines()[4].startswith(
        f"> **{CLUSTERS:,} clusters will be ORPHANED**: left running, no longer managed by fleetc "
        "(nothing is deleted): "
    )
    assert f"{CLUSTERS:,} of them are re-created with the same spec under another name or namespace" in markdown
    assert "so this is an orphaning and a creation" in markdown
    truncated = re.search(r"\*\*Truncated, ([\d,]+) more not shown\*\*", markdown)
    assert truncated is not None
    assert int(truncated[1].replace(",", "")) > CLUSTERS
    assert markdown.rstrip().endswith("</sub>")
    assert markdown.count("<details>") == markdown.count("</details>")


def test_plan_of_2000_clusters_resolves_percentages_and_stays_under_the_limit(fleet_yaml: Path) -> None:
    _edit(fleet_yaml, "stable: v1.34.2", "stable: v1.35.0")

    markdown = run("plan", "fleet", "--base", "HEAD", "--format", "markdown").stdout
    waves = json.loads(run("plan", "fleet", "--base", "HEAD", "--format", "json").stdout)["rollout"]["waves"]

    assert len(markdown.encode()) < COMMENT_LIMIT
    broad = waves[2]
    assert broad["name"] == "broad"
    assert broad["maxConcurrent"] == len(broad["clusters"]) * 25 // 100  # maxConcurrent: 25%
    assert broad["failureBudget"] == len(broad["clusters"]) * 5 // 100  # failureBudget: 5%
    row = f"| 3 | broad | {len(broad['clusters']):,} | **{len(broad['changing']):,}** | {broad['maxConcurrent']:,} |"
    assert row in top(markdown)
