"""``fleetc plan``'s lifecycle section: the next machine rotation per cluster, a rotation rolled out as a change,
and a warning when the waves' soaks would keep a rollout running past a version's expiry date (``--now``)."""

from __future__ import annotations

import json
from typing import Any

from tests.plan.support import FleetRepo, run

NOW = "2027-01-15"


def _plan(*args: str) -> dict[str, Any]:
    result = run("plan", "fleet", "--base", "HEAD~1", "--format", "json", "--now", NOW, *args)
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_plan_shows_the_next_rotation_date_per_cluster(repo: FleetRepo) -> None:
    repo.builder.set("Fleet", None, "spec.machineRotation", {"rotateAfter": "2027-01-10", "maxMachineAgeDays": 90})
    repo.builder.set("ClusterClass", "edge", "spec.machineRotation", {"maxMachineAgeDays": 30})
    repo.commit("rotation policy")

    lifecycle = _plan()["lifecycle"]

    assert lifecycle["now"] == NOW
    assert lifecycle["warnings"] == []
    assert [(r["nextDue"], r["clusters"]) for r in lifecycle["rotations"]] == [
        ("2027-02-09", ["edge-1"]),
        ("2027-04-10", ["eu-1", "eu-2", "eu-3", "sim-1"]),
    ]


def test_a_new_rotation_date_replaces_every_machine_wave_by_wave(repo: FleetRepo) -> None:
    repo.builder.set("Fleet", None, "spec.machineRotation", {"rotateAfter": "2027-01-10"})
    repo.commit("rotate")

    data = _plan()
    eu1 = next(c for c in data["clusters"] if c["name"] == "eu-1")

    assert "replace" in eu1["effects"]
    rotation = "machine rotation: machines created before 2027-01-10T00:00:00Z are replaced (rollout.after)"
    assert eu1["notes"] == [rotation]
    assert eu1["machines"]["controlPlaneReplaced"] == 3
    assert eu1["machines"]["workersReplaced"] == {"min": 3, "max": 3}
    assert [w["name"] for w in data["rollout"]["waves"] if w["changing"]] == ["canary", "broad"]


def test_plan_warns_when_the_soaks_keep_clusters_on_a_version_past_its_expiry(repo: FleetRepo) -> None:
    repo.builder.set("Fleet", None, ("spec", "rollout", "waves", 0, "soak"), "48h")
    repo.builder.set("Fleet", None, "spec.versions.lifecycle", {"v1.34.2": {"expires": "2027-01-16"}})
    repo.commit("lifecycle")
    repo.builder.set("Fleet", None, "spec.versions.channels.stable", "v1.35.0")
    repo.commit("upgrade stable")

    (warning,) = _plan()["lifecycle"]["warnings"]

    assert warning["severity"] == "warning"
    assert warning["field"] == "spec.versions.lifecycle.v1.34.2.expires"
    assert warning["message"] == (
        "v1.34.2 expires on 2027-01-16, but wave broad starts no earlier than 2027-01-17 (the soaks before it): "
        "4 of its clusters would still run v1.34.2 then"
    )


def test_with_short_soaks_the_same_upgrade_finishes_before_the_expiry(repo: FleetRepo) -> None:
    repo.builder.set("Fleet", None, "spec.versions.lifecycle", {"v1.34.2": {"expires": "2027-01-16"}})
    repo.commit("lifecycle")
    repo.builder.set("Fleet", None, "spec.versions.channels.stable", "v1.35.0")
    repo.commit("upgrade stable")

    assert _plan()["lifecycle"]["warnings"] == []


def test_the_text_plan_prints_the_lifecycle_section(repo: FleetRepo) -> None:
    repo.builder.set("Fleet", None, "spec.machineRotation", {"rotateAfter": "2027-01-10", "maxMachineAgeDays": 90})
    repo.commit("rotation policy")

    result = run("plan", "fleet", "--base", "HEAD~1", "--now", NOW)

    assert "Lifecycle (as on 2027-01-15)" in result.stdout
    assert "next rotation due 2027-04-10 (max age 90 days): edge-1, eu-1, eu-2, eu-3, sim-1" in result.stdout
