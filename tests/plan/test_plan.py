"""``fleetc plan``: the diff plus the rollout order — waves in order, clusters per wave, gates resolved.

maxConcurrent and the failure budget are resolved to numbers against each wave's size (percentages round down,
at least one cluster in flight); soak and the control-plane deadline are shown; waves the change does not touch
are listed as such.
"""

from __future__ import annotations

import json

from tests.plan.support import FleetRepo, run


def _gated(repo: FleetRepo) -> None:
    waves = repo.builder.doc("Fleet")["spec"]["rollout"]["waves"]
    waves[1].update({"maxConcurrent": "50%", "failureBudget": "34%", "controlPlaneDeadline": "45m", "soak": "2h"})
    repo.commit("gates on broad")


def test_plan_lists_waves_in_order_with_resolved_gates_and_touched_clusters(repo: FleetRepo) -> None:
    _gated(repo)
    repo.cluster("eu-3")["spec"]["version"] = "v1.35.0"
    repo.write()

    result = run("plan", "fleet", "--base", "HEAD", "--format", "json")

    assert result.exit_code == 0, result.output
    canary, broad = json.loads(result.stdout)["rollout"]["waves"]
    assert (canary["name"], canary["changing"], canary["batches"]) == ("canary", [], 0)
    assert broad == {
        "index": 2,
        "name": "broad",
        "clusters": ["edge-1", "eu-2", "eu-3", "sim-1"],
        "changing": ["eu-3"],
        "deleted": [],
        "orphaned": [],
        "maxConcurrent": 2,
        "soakSeconds": 7200,
        "controlPlaneDeadlineSeconds": 2700,
        "failureBudget": 1,
        "batches": 1,
    }


def test_plan_text_says_which_waves_the_change_touches(repo: FleetRepo) -> None:
    _gated(repo)
    repo.builder.set("Fleet", None, "spec.versions.channels.stable", "v1.35.0")
    repo.remove_cluster("edge-1")
    repo.write()

    text = run("plan", "fleet", "--base", "HEAD").stdout

    rollout = text.split("Rollout order", 1)[1].splitlines()
    assert rollout[1] == (
        "  1. canary: 1 cluster, 1 changing (touched) — max 1 at a time · soak 0s · control-plane deadline 30m · "
        "failure budget 0"
    )
    assert rollout[2] == "     in order: eu-1"
    assert rollout[3].startswith("  2. broad: 3 clusters, 3 changing, 1 orphaned (touched) — max 1 at a time")
    assert rollout[4] == "     in order: eu-2, eu-3, sim-1"
    assert rollout[5] == "     orphaned (left running): edge-1"


def test_plan_lists_a_decommissioned_cluster_in_its_wave_as_deleted(repo: FleetRepo) -> None:
    repo.cluster("edge-1")["spec"]["decommission"] = True
    repo.write()
    repo.commit("mark edge-1")
    repo.remove_cluster("edge-1")
    repo.write()

    text = run("plan", "fleet", "--base", "HEAD").stdout
    data = json.loads(run("plan", "fleet", "--base", "HEAD", "--format", "json").stdout)

    rollout = text.split("Rollout order", 1)[1].splitlines()
    assert rollout[2].startswith("  2. broad: 3 clusters, 0 changing, 1 deleted (touched)")
    assert rollout[3] == "     deleted (needs --allow-delete): edge-1"
    broad = data["rollout"]["waves"][1]
    assert (broad["deleted"], broad["orphaned"]) == (["edge-1"], [])


def test_plan_of_an_untouched_wave_says_so(repo: FleetRepo) -> None:
    repo.cluster("eu-1")["spec"]["controlPlane"] = {"replicas": 5}
    repo.write()

    text = run("plan", "fleet", "--base", "HEAD").stdout

    assert "2. broad: 4 clusters, 0 changing (untouched)" in text


def test_plan_exit_codes_follow_diff(repo: FleetRepo) -> None:
    repo.builder.set("Fleet", None, "spec.versions.channels.stable", "v1.33.6")
    repo.write()

    assert run("plan", "fleet", "--base", "HEAD").exit_code == 1


def test_plan_for_flux_says_which_gates_flux_cannot_enforce(repo: FleetRepo) -> None:
    _gated(repo)
    repo.cluster("eu-3")["spec"]["version"] = "v1.35.0"
    repo.write()

    for output in ("text", "markdown"):
        flux = run("plan", "fleet", "--base", "HEAD", "--format", output, "--target", "flux")
        fleetc = run("plan", "fleet", "--base", "HEAD", "--format", output)

        assert flux.exit_code == fleetc.exit_code == 0, flux.output
        assert "Target Flux: maxConcurrent, soak and failureBudget are not enforced" in flux.stdout
        assert "not enforced" not in fleetc.stdout
    json_flux = run("plan", "fleet", "--base", "HEAD", "--format", "json", "--target", "flux")
    assert json_flux.stdout == run("plan", "fleet", "--base", "HEAD", "--format", "json").stdout
