"""Clusters added, removed and renamed: what happens to a removed cluster is said exactly and impossible to miss.

A removed cluster is orphaned (left running, no longer managed) unless the base revision marked it
``decommission: true``: then it is decommissioned, the CAPI Cluster deleted with its machines (destructive). Both
are flagged at the very top of the comment (before the summary table) with the wave; a decommissioning also with
the machines it loses. A renamed cluster is a removal plus a create, since CAPI cannot rename, and the diff says so.
"""

from __future__ import annotations

import json

from tests.plan.support import FleetRepo, run, top


def test_a_new_cluster_is_created_in_its_wave_with_its_machines(repo: FleetRepo) -> None:
    repo.add_cluster("eu-4", ring="canary")
    repo.write()

    result = run("diff", "fleet", "--base", "HEAD", "--format", "json")

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    [cluster] = report["clusters"]
    assert (cluster["name"], cluster["effects"], cluster["wave"]) == ("eu-4", ["created"], "canary")
    assert cluster["version"] == "v1.34.2"
    assert cluster["machines"]["controlPlane"] == 3
    assert report["summary"]["objects"] == {"added": 1, "removed": 0, "changed": 0}


def test_a_removed_unmarked_cluster_is_orphaned_and_said_so_at_the_very_top(repo: FleetRepo) -> None:
    repo.remove_cluster("eu-3")
    repo.write()

    result = run("diff", "fleet", "--base", "HEAD", "--format", "markdown")

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[3] == "> [!WARNING]"
    assert lines[4] == (
        "> **1 cluster will be ORPHANED**: left running, no longer managed by fleetc (nothing is deleted): "
        "`eu-3` (wave broad)"
    )
    assert "put its entry back with decommission: true, apply that, then remove it" in lines[6]
    table = top(result.stdout).index("| change |")
    assert top(result.stdout).index("ORPHANED") < table
    assert "DELETED" not in result.stdout
    assert (
        "| orphaned: left running, no longer managed by fleetc (not marked decommission) | 1 | broad: `eu-3` "
        "| 3 keep running | 3 keep running |" in result.stdout
    )


def test_a_removed_unmarked_cluster_is_orphaned_in_text_and_json_too(repo: FleetRepo) -> None:
    repo.remove_cluster("eu-3")
    repo.write()

    text = run("diff", "fleet", "--base", "HEAD").stdout
    data = json.loads(run("diff", "fleet", "--base", "HEAD", "--format", "json").stdout)

    assert text.splitlines()[1:3] == [
        "ORPHANED: 1 cluster left running, no longer managed by fleetc:",
        "  eu-3 (wave broad)",
    ]
    assert "DESTRUCTIVE" not in text
    [cluster] = data["clusters"]
    assert cluster["effects"] == ["orphaned"] and not cluster["destructive"]
    assert cluster["removal"] == "orphaned: left running, no longer managed by fleetc"
    assert cluster["machines"]["workers"] == {"min": 3, "max": 3}


def test_marking_a_cluster_for_decommissioning_deletes_nothing_and_says_what_removal_will_do(
    repo: FleetRepo,
) -> None:
    repo.cluster("eu-3")["spec"]["decommission"] = True
    repo.write()

    text = run("diff", "fleet", "--base", "HEAD").stdout
    data = json.loads(run("diff", "fleet", "--base", "HEAD", "--format", "json").stdout)

    assert "DESTRUCTIVE" not in text and "ORPHANED" not in text
    [cluster] = data["clusters"]
    assert cluster["effects"] == ["decommission-mark"] and not cluster["destructive"]
    assert cluster["notes"] == [
        "marked for decommissioning: nothing is deleted now; removing its entry from the spec later deletes the "
        "CAPI Cluster with its 3 control-plane and 3 worker machines (fleetc apply needs --allow-delete)"
    ]


def test_removing_a_marked_cluster_decommissions_it_flagged_destructive_at_the_very_top(repo: FleetRepo) -> None:
    repo.cluster("eu-3")["spec"]["decommission"] = True
    repo.write()
    repo.commit("mark eu-3")
    repo.remove_cluster("eu-3")
    repo.write()

    markdown = run("diff", "fleet", "--base", "HEAD", "--format", "markdown").stdout
    text = run("diff", "fleet", "--base", "HEAD").stdout
    data = json.loads(run("diff", "fleet", "--base", "HEAD", "--format", "json").stdout)

    lines = markdown.splitlines()
    assert lines[3] == "> [!CAUTION]"
    assert lines[4] == (
        "> **1 cluster will be DELETED** (decommissioned: the CAPI Cluster is deleted with every machine; "
        "`fleetc apply` needs `--allow-delete`): `eu-3` (wave broad; 3 control-plane and 3 worker machines)"
    )
    assert "ORPHANED" not in markdown
    assert text.splitlines()[1:4] == [
        "DESTRUCTIVE: machines deleted for good on 1 cluster:",
        "  eu-3 (wave broad; 3 control-plane and 3 worker machines)",
        "  decommissioned clusters are deleted by fleetc apply only with --allow-delete",
    ]
    [cluster] = data["clusters"]
    assert cluster["effects"] == ["decommissioned"] and cluster["destructive"]
    assert cluster["removal"] == (
        "decommissioned: CAPI Cluster deleted with 3 control-plane and 3 worker machines "
        "(needs fleetc apply --allow-delete)"
    )


def test_a_renamed_cluster_is_an_orphaning_and_a_create_and_said_to_look_like_a_rename(repo: FleetRepo) -> None:
    repo.cluster("eu-3")["metadata"]["name"] = "eu-30"
    repo.write()

    result = run("diff", "fleet", "--base", "HEAD", "--format", "markdown")

    head = top(result.stdout)
    assert "**1 cluster will be ORPHANED**: left running, no longer managed by fleetc (nothing is deleted): " in head
    assert "1 of them is re-created with the same spec under another name or namespace (`eu-3` → `eu-30`)" in head
    assert "so this is an orphaning and a creation" in head
    assert "created at v1.34.2" in head
    assert (
        "looks like renamed to eu-30: CAPI cannot rename, so a new cluster is created and the old one orphaned "
        "(left running, no longer managed)" in result.stdout
    )


def test_moving_a_cluster_to_another_wave_is_metadata_only(repo: FleetRepo) -> None:
    repo.cluster("eu-3")["metadata"]["labels"]["ring"] = "canary"
    repo.write()

    data = json.loads(run("diff", "fleet", "--base", "HEAD", "--format", "json").stdout)

    [cluster] = data["clusters"]
    assert cluster["effects"] == ["metadata"]
    assert "moves from wave broad to canary" in cluster["notes"]


def test_scaling_a_pool_replaces_no_machine(repo: FleetRepo) -> None:
    repo.cluster("eu-2")["spec"]["workers"] = {"general": {"replicas": 5}}
    repo.cluster("eu-2")["spec"]["controlPlane"] = {"replicas": 5}
    repo.write()

    data = json.loads(run("diff", "fleet", "--base", "HEAD", "--format", "json").stdout)

    [cluster] = data["clusters"]
    assert cluster["effects"] == ["scale"]
    assert cluster["scaling"] == ["control plane 3 → 5", "general 3 → 5"]
    assert cluster["machines"]["controlPlaneReplaced"] == 0


def test_a_cluster_s_own_deletion_timeouts_change_in_place_and_touch_no_class_revision(repo: FleetRepo) -> None:
    repo.cluster("eu-2")["spec"]["workers"] = {"general": {"nodeDrainTimeout": "10m"}}
    repo.cluster("eu-2")["spec"]["controlPlane"] = {"nodeVolumeDetachTimeout": "5m", "nodeDeletionTimeout": "30s"}
    repo.write()

    data = json.loads(run("diff", "fleet", "--base", "HEAD", "--format", "json").stdout)

    [cluster] = data["clusters"]
    assert cluster["effects"] == ["reconfigure"]
    assert cluster["notes"] == [
        "control plane: volume detach timeout the class's → 5m, node deletion timeout the class's → 30s "
        "(set on its machines in place: none is replaced)",
        "pool general: drain timeout the class's → 10m (set on its machines in place: none is replaced)",
    ]
    assert cluster["machines"]["controlPlaneReplaced"] == 0
    assert cluster["machines"]["workersReplaced"] == {"min": 0, "max": 0}
    assert data["revisions"] == []


def test_an_unchanged_fleet_reports_no_change_and_exits_0_even_with_exit_code(repo: FleetRepo) -> None:
    result = run("diff", "fleet", "--base", "HEAD", "--exit-code")

    assert result.exit_code == 0, result.output
    assert "No cluster changes." in result.stdout


def test_exit_code_makes_any_change_exit_1(repo: FleetRepo) -> None:
    repo.add_cluster("eu-4")
    repo.write()

    assert run("diff", "fleet", "--base", "HEAD").exit_code == 0
    assert run("diff", "fleet", "--base", "HEAD", "--exit-code").exit_code == 1
