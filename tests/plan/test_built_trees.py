"""``fleetc diff DIR_A DIR_B``: two trees written by ``fleetc build``, compared from their objects alone; or two
fleet folders, compiled like two git revisions.

Impact is derived from the rendered Cluster, ClusterClass and template objects, so two built trees give the same
per-cluster answer as the two fleet revisions they were built from; waves come from the Cluster labels and the
Flux chain. A folder that is not a readable built tree is a failure, not "everything deleted". A folder holding
``fleet.yaml`` is a fleet: it used to be read as a built tree, which failed on its add-on files.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.plan.support import FleetRepo, run
from tests.plan.test_formats import scenario


def _build(out: Path) -> None:
    """Build into ``out`` as if it were always committed at the same place (the Flux path does not vary)."""
    result = run("build", "fleet", "--out-dir", str(out), "--flux-path", "./clusters/test")
    assert result.exit_code == 0, result.output


def _comparable(report: dict[str, object]) -> list[object]:
    clusters = report["clusters"]
    assert isinstance(clusters, list)
    return [{k: v for k, v in c.items() if k not in ("source", "causes")} for c in clusters]


def test_two_built_trees_give_the_same_impact_as_the_revisions_they_came_from(repo: FleetRepo) -> None:
    _build(repo.root / "out-a")
    scenario(repo)
    _build(repo.root / "out-b")

    trees = json.loads(run("diff", "out-a", "out-b", "--format", "json").stdout)
    revisions = json.loads(run("diff", "fleet", "--base", "HEAD", "--format", "json").stdout)

    assert trees["base"]["label"] == "out-a"
    assert _comparable(trees) == _comparable(revisions)
    assert [r["from"] for r in trees["revisions"]] == [r["from"] for r in revisions["revisions"]]
    assert trees["summary"]["wavesTouched"] == ["canary", "broad"]
    # Without the fleet model, a change's cause is the Cluster's fleetc.io/source line (relative to the fleet).
    for cluster in trees["clusters"]:
        if cluster["effects"] != ["orphaned"]:
            assert [(c["what"], c["file"]) for c in cluster["causes"]] == [
                (f"cluster {cluster['name']}", "clusters.yaml")
            ]


def test_two_fleet_folders_give_the_same_report_as_the_revisions_they_hold(repo: FleetRepo) -> None:
    shutil.copytree(repo.fleet, repo.root / "fleet-old")
    scenario(repo)
    shutil.copytree(repo.fleet, repo.root / "fleet-new")

    folders = json.loads(run("diff", "fleet-old", "fleet-new", "--format", "json").stdout)
    revisions = json.loads(run("diff", "fleet", "--base", "HEAD", "--format", "json").stdout)

    assert (folders["base"]["label"], folders["head"]["label"]) == ("fleet fleet-old", "fleet fleet-new")
    assert [{k: v for k, v in c.items() if k != "causes"} for c in folders["clusters"]] == [
        {k: v for k, v in c.items() if k != "causes"} for c in revisions["clusters"]
    ]
    assert folders["summary"] == revisions["summary"]


def test_a_fleet_folder_against_the_tree_built_from_it_shows_no_cluster_change(repo: FleetRepo) -> None:
    _build(repo.root / "out-a")

    result = run("diff", "out-a", "fleet", "--exit-code")

    assert "fleetc diff: out-a → fleet fleet" in result.stdout
    assert "No cluster changes" in result.stdout, result.output


def test_built_trees_of_the_same_fleet_show_no_change(repo: FleetRepo) -> None:
    _build(repo.root / "out-a")
    _build(repo.root / "out-b")

    result = run("diff", "out-a", "out-b", "--exit-code")

    assert result.exit_code == 0, result.output
    assert "No cluster changes." in result.stdout


def test_plan_of_built_trees_lists_waves_in_flux_order_without_gates(repo: FleetRepo) -> None:
    _build(repo.root / "out-a")
    scenario(repo)
    _build(repo.root / "out-b")

    waves = json.loads(run("plan", "out-a", "out-b", "--format", "json").stdout)["rollout"]["waves"]

    assert [w["name"] for w in waves] == ["canary", "broad"]
    assert waves[0]["changing"] == ["eu-1", "eu-4"]
    assert waves[0]["maxConcurrent"] is None  # gates live in fleet.yaml, not in the built tree


def test_a_broken_built_tree_is_a_read_failure(repo: FleetRepo) -> None:
    _build(repo.root / "out-a")
    _build(repo.root / "out-b")
    (repo.root / "out-b" / "clusters" / "eu-1" / "cluster.yaml").write_text("kind: Cluster\nmetadata: {}\n")

    report = json.loads(run("diff", "out-a", "out-b", "--format", "json").stdout)

    [failure] = report["failures"]
    assert (failure["side"], failure["stage"]) == ("head", "read")
    assert "no apiVersion, metadata.name" in failure["diagnostics"][0]["message"]
    assert report["clusters"] == []


def test_an_empty_folder_is_not_everything_deleted(repo: FleetRepo) -> None:
    _build(repo.root / "out-a")
    (repo.root / "empty").mkdir()

    result = run("diff", "out-a", "empty")

    assert result.exit_code == 1
    assert "head (empty) failed to read: no Kubernetes objects found" in result.stdout
    assert "DELETED" not in result.stdout


def test_a_class_change_whose_class_objects_are_missing_is_not_reported_as_no_change(repo: FleetRepo) -> None:
    import shutil

    _build(repo.root / "out-a")
    repo.builder.set("ClusterClass", "standard", "spec.workers.general.size", "medium")
    repo.write()
    _build(repo.root / "out-b")
    for folder in (repo.root / "out-b" / "classes").glob("standard-aws-eu-*"):
        shutil.rmtree(folder)

    clusters = json.loads(run("diff", "out-a", "out-b", "--format", "json").stdout)["clusters"]

    eu1 = next(c for c in clusters if c["name"] == "eu-1")
    assert eu1["effects"] == ["replace"]
    assert "which machines are replaced cannot be told" in eu1["notes"][0]
