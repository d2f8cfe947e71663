"""Cross-revision rules checked on built trees, where only the rendered objects are known.

Worker skew can arise when a pool's upgrade is deferred (``topology.cluster.x-k8s.io/defer-upgrade``) while a
chained upgrade moves the control plane on by more than 3 minors; findings point at the spec line recorded in
the ``fleetc.io/source`` annotation, since a built tree has no fleet model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from tests.plan.support import FleetRepo, run

CATALOGUE = ["v1.31.0", "v1.32.0", "v1.33.0", "v1.34.0", "v1.35.0"]


def _build(out: Path) -> None:
    result = run("build", "fleet", "--out-dir", str(out), "--flux-path", "./clusters/test")
    assert result.exit_code == 0, result.output


def _four_minor_upgrade(repo: FleetRepo) -> None:
    """Build out-a with eu-2 on v1.31.0, then out-b with eu-2 on v1.35.0 (chained upgrades on)."""
    repo.builder.set("Fleet", None, "spec.versions.catalogue", CATALOGUE)
    repo.builder.set("Fleet", None, "spec.versions.channels", {"stable": "v1.34.0", "rapid": "v1.35.0"})
    repo.builder.set("Fleet", None, "spec.versions.chainedUpgrades", True)
    repo.cluster("eu-2")["spec"]["version"] = "v1.31.0"
    repo.write()
    _build(repo.root / "out-a")
    repo.cluster("eu-2")["spec"]["version"] = "v1.35.0"
    repo.write()
    _build(repo.root / "out-b")


def _defer_workers(cluster_file: Path) -> None:
    manifest: dict[str, Any] = yaml.safe_load(cluster_file.read_text())
    deployment = manifest["spec"]["topology"]["workers"]["machineDeployments"][0]
    deployment["metadata"] = {"annotations": {"topology.cluster.x-k8s.io/defer-upgrade": ""}}
    cluster_file.write_text(yaml.safe_dump(manifest))


def test_a_four_minor_chained_upgrade_upgrades_workers_at_the_third_step_and_the_last(repo: FleetRepo) -> None:
    _four_minor_upgrade(repo)

    report = json.loads(run("diff", "out-a", "out-b", "--format", "json").stdout)

    assert report["policy"] == []
    [cluster] = report["clusters"]
    assert cluster["upgrade"]["controlPlaneSteps"] == ["v1.32.0", "v1.33.0", "v1.34.0", "v1.35.0"]
    assert cluster["upgrade"]["workerSteps"] == ["v1.34.0", "v1.35.0"]
    assert cluster["machines"]["controlPlaneReplaced"] == 12


def test_deferred_workers_falling_more_than_3_minors_behind_are_an_error(repo: FleetRepo) -> None:
    _four_minor_upgrade(repo)
    _defer_workers(repo.root / "out-b" / "clusters" / "eu-2" / "cluster.yaml")

    result = run("diff", "out-a", "out-b", "--format", "json")

    assert result.exit_code == 1
    [error] = json.loads(result.stdout)["policy"]
    assert error["code"] == "worker-skew"
    assert "stay at v1.31.0" in error["message"] and "4 minors behind, at most 3" in error["message"]
    text = repo.builder.text("clusters.yaml")
    document_start = text.count("\n", 0, text[: text.index("name: eu-2")].rindex("apiVersion")) + 1
    assert (error["file"], error["line"]) == ("clusters.yaml", document_start)  # eu-2's fleetc.io/source


def test_a_version_going_down_between_built_trees_points_at_the_source_annotation(repo: FleetRepo) -> None:
    _build(repo.root / "out-a")
    repo.cluster("eu-1")["spec"]["version"] = "v1.33.6"
    repo.write()
    _build(repo.root / "out-b")

    result = run("diff", "out-a", "out-b")

    assert result.exit_code == 1
    assert "clusters.yaml:1:1: spec.topology.version: version goes down from v1.34.2 to v1.33.6" in result.stdout
