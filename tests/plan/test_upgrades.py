"""Kubernetes version changes between two revisions: what the PR comment says and which rules CAPI enforces.

A channel bump upgrades every cluster on the channel; the comment says at the top which clusters go from what to
what, in which waves, and how many machines are replaced. Rules between revisions (docs/design.md §3): a version never
goes down; one minor per step unless the fleet enables chained upgrades (then CAPI steps through the catalogue,
replacing the control plane once per step).
"""

from __future__ import annotations

import json

from tests.builders import position
from tests.plan.support import FleetRepo, run, top


def _bump_stable(repo: FleetRepo, version: str) -> None:
    repo.builder.set("Fleet", None, "spec.versions.channels.stable", version)


def test_a_channel_bump_says_at_the_top_who_upgrades_from_what_to_what_in_which_waves(repo: FleetRepo) -> None:
    _bump_stable(repo, "v1.35.0")
    repo.commit("bump stable")

    result = run("diff", "fleet", "--base", "HEAD~1", "--format", "markdown")

    assert result.exit_code == 0, result.output
    head = top(result.stdout)
    row = next(line for line in head.splitlines() if "Kubernetes v1.34.2 → v1.35.0" in line)
    assert "| 5 |" in row
    assert "canary: `eu-1`" in row
    assert "broad: `edge-1`, `eu-2`, `eu-3`, `sim-1`" in row
    # 4 standard clusters × 3 control-plane machines + 1 edge × 1; workers 4 × 3 + 1 × 2.
    assert row.rstrip().endswith("| 13 replaced | 14 replaced |")
    assert "waves touched: canary → broad" in head


def test_the_text_format_folds_the_same_upgrade_into_one_line_with_the_count(repo: FleetRepo) -> None:
    _bump_stable(repo, "v1.35.0")
    repo.write()

    result = run("diff", "fleet", "--base", "HEAD")

    assert result.exit_code == 0, result.output
    assert result.stdout.count("Kubernetes v1.34.2 → v1.35.0 — 5 clusters") == 1
    assert "spec.topology.version: v1.34.2 → v1.35.0" in result.stdout


def test_a_version_going_down_is_a_policy_error_at_the_channel_line(repo: FleetRepo) -> None:
    _bump_stable(repo, "v1.33.6")
    repo.write()

    result = run("diff", "fleet", "--base", "HEAD", "--format", "json")

    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert not report["ok"]
    [error] = report["policy"]
    line, column = position(repo.builder.text("fleet.yaml"), "stable: v1.33.6", value=True)
    assert (error["file"], error["line"], error["column"]) == ("fleet/fleet.yaml", line, column)
    assert error["code"] == "version-down"
    assert "goes down from v1.34.2 to v1.33.6" in error["message"]
    assert error["context"] == "cluster edge-1, and 4 more items"


def test_two_minors_in_one_step_without_chained_upgrades_is_an_error_at_the_pinned_version(repo: FleetRepo) -> None:
    repo.cluster("eu-2")["spec"]["version"] = "v1.33.6"
    repo.commit("pin eu-2 to an old version")
    repo.cluster("eu-2")["spec"]["version"] = "v1.35.0"
    repo.write()

    result = run("diff", "fleet", "--base", "HEAD", "--format", "markdown")

    assert result.exit_code == 1
    line, column = position(repo.builder.text("clusters.yaml"), "version: v1.35.0", value=True)
    assert f"`fleet/clusters.yaml:{line}:{column}` `spec.version`" in top(result.stdout)
    assert "skips 1 minor version(s)" in top(result.stdout)
    assert "Kubernetes v1.33.6 → v1.35.0 (refused by CAPI: the Cluster is not updated, no machine rolls)" in top(
        result.stdout
    )


def test_chained_upgrades_step_through_the_catalogue_and_replace_the_control_plane_per_step(repo: FleetRepo) -> None:
    repo.builder.set("Fleet", None, "spec.versions.chainedUpgrades", True)
    repo.cluster("eu-2")["spec"]["version"] = "v1.33.6"
    repo.commit("chained upgrades, eu-2 on an old version")
    repo.cluster("eu-2")["spec"]["version"] = "v1.35.0"
    repo.write()

    result = run("diff", "fleet", "--base", "HEAD", "--format", "json")

    assert result.exit_code == 0, result.output
    [cluster] = json.loads(result.stdout)["clusters"]
    assert cluster["upgrade"] == {
        "from": "v1.33.6",
        "to": "v1.35.0",
        "controlPlaneSteps": ["v1.34.2", "v1.35.0"],
        "workerSteps": ["v1.35.0"],
        "refused": None,
    }
    assert cluster["machines"]["controlPlaneReplaced"] == 6
    assert cluster["machines"]["workersReplaced"] == {"min": 3, "max": 3}


def test_a_patch_upgrade_replaces_each_machine_once(repo: FleetRepo) -> None:
    repo.builder.set("Fleet", None, "spec.versions.catalogue", ["v1.33.6", "v1.34.2", "v1.34.3", "v1.35.0"])
    repo.commit("catalogue gains v1.34.3")
    _bump_stable(repo, "v1.34.3")
    repo.write()

    result = run("diff", "fleet", "--base", "HEAD", "--format", "json")

    assert result.exit_code == 0, result.output
    eu1 = next(c for c in json.loads(result.stdout)["clusters"] if c["name"] == "eu-1")
    assert eu1["effects"] == ["upgrade"]
    assert eu1["machines"]["controlPlaneReplaced"] == 3
    assert eu1["machines"]["workersReplaced"] == {"min": 3, "max": 3}
