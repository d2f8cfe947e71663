"""Machine pools (worker pools of ``kind: pool``) in diff and plan: scaling, template changes and upgrades roll them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.builders import API
from tests.plan.support import FleetRepo, new_repo, plan_fleet, run

DOCKER = {"apiVersion": API, "kind": "Provider", "metadata": {"name": "docker"}, "spec": {"type": "dev-docker"}}
POOLED = {
    "apiVersion": API,
    "kind": "ClusterClass",
    "metadata": {"name": "pooled"},
    "spec": {
        "controlPlane": {"replicas": 1, "size": "medium"},
        "workers": {"burst": {"kind": "pool", "size": "medium", "replicas": 4}},
    },
}


@pytest.fixture
def pooled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FleetRepo:
    """The plan fleet plus cluster ``pool-1`` of class ``pooled`` (one machine pool of 4) on dev-docker."""
    monkeypatch.chdir(tmp_path)
    builder = plan_fleet().add("providers.yaml", DOCKER).add("classes.yaml", POOLED)
    cluster = {"apiVersion": API, "kind": "Cluster", "metadata": {"name": "pool-1", "labels": {"ring": "broad"}},
               "spec": {"class": "pooled", "provider": "docker"}}  # fmt: skip
    builder.add("clusters.yaml", cluster)
    return new_repo(tmp_path, builder)


def _impact(name: str) -> dict[str, Any]:
    result = run("diff", "fleet", "--base", "HEAD~1", "--format", "json")
    assert result.exit_code == 0, result.output
    (impact,) = [c for c in json.loads(result.stdout)["clusters"] if c["name"] == name]
    found: dict[str, Any] = impact
    return found


def test_scaling_a_machine_pool_is_a_scale_of_that_pool(pooled: FleetRepo) -> None:
    pooled.cluster("pool-1")["spec"]["workers"] = {"burst": {"replicas": 6}}
    pooled.commit("scale")

    impact = _impact("pool-1")

    assert impact["scaling"] == ["burst 4 → 6"]
    assert impact["machines"]["workers"] == {"min": 6, "max": 6}
    assert impact["machines"]["workersReplaced"] == {"min": 0, "max": 0}
    assert impact["notes"] == []


def test_an_upgrade_rolls_the_machine_pool_after_the_control_plane(pooled: FleetRepo) -> None:
    pooled.cluster("pool-1")["spec"]["version"] = "v1.35.0"
    pooled.commit("upgrade")

    impact = _impact("pool-1")

    assert impact["machines"]["controlPlaneReplaced"] == 1
    assert impact["machines"]["workersReplaced"] == {"min": 4, "max": 4}


def test_a_pool_template_change_rolls_the_machine_pool(pooled: FleetRepo) -> None:
    pooled.builder.set("ClusterClass", "pooled", "spec.workers.burst.nodeLabels", {"tier": "burst"})
    pooled.commit("label the pool's nodes")

    impact = _impact("pool-1")

    assert impact["rollingPools"] == ["burst"]
    assert impact["machines"]["workersReplaced"] == {"min": 4, "max": 4}
