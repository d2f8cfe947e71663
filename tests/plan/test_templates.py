"""Class template changes: revisions paired across their hash change, and only the class's clusters roll.

A template edit gives the class a new revision (``standard-aws-eu-<hash>``); the diff pairs old and new through
the clusters that move, says which templates changed (control plane, a pool's bootstrap or machines), and
which machines the move replaces. Removing a pool from a class while clusters still run it is a policy error.
"""

from __future__ import annotations

import json
import re
from typing import Any

from tests.plan.support import FleetRepo, run, top


def _report(*args: str) -> dict[str, Any]:
    result = run("diff", "fleet", "--base", "HEAD", "--format", "json", *args)
    assert result.exit_code in (0, 1), result.output
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def test_a_worker_template_change_pairs_the_revisions_and_rolls_only_that_class_and_pool(repo: FleetRepo) -> None:
    repo.builder.set("ClusterClass", "standard", "spec.kubeadm", {"kubelet": {"extraArgs": {"max-pods": "200"}}})
    repo.builder.set("ClusterClass", "standard", "spec.workers.general.size", "medium")
    repo.write()

    report = _report()

    changed = {c["name"]: c for c in report["clusters"]}
    assert set(changed) == {"eu-1", "eu-2", "eu-3", "sim-1"}  # edge-1 is of class edge: untouched
    assert all(c["effects"] == ["replace"] for c in changed.values())
    assert changed["eu-2"]["rollingPools"] == ["general"]
    assert changed["eu-2"]["machines"]["controlPlaneReplaced"] == 3
    assert changed["eu-2"]["machines"]["workersReplaced"] == {"min": 3, "max": 3}
    aws = next(r for r in report["revisions"] if r["class"] == "standard-aws-eu")
    assert re.fullmatch(r"standard-aws-eu-[0-9a-f]{6}", aws["from"] or "")
    assert aws["to"] != aws["from"]
    assert aws["clusters"] == ["eu-1", "eu-2", "eu-3"]
    roles = {t["role"]: t for t in aws["templates"]}
    assert set(roles) == {"control plane", "pool general bootstrap", "pool general machines"}
    machines = roles["pool general machines"]["fields"]
    assert machines == [
        {"path": "spec.template.spec.instanceType", "op": "changed", "before": "m6i.2xlarge", "after": "m6i.xlarge"}
    ]


def test_the_comment_names_the_revision_change_as_class_revision_old_to_new(repo: FleetRepo) -> None:
    repo.builder.set("ClusterClass", "standard", "spec.kubeadm", {"kubelet": {"extraArgs": {"max-pods": "200"}}})
    repo.write()

    result = run("diff", "fleet", "--base", "HEAD", "--format", "markdown")

    head = top(result.stdout)
    assert re.search(
        r"standard-aws-eu: revision [0-9a-f]{6} → [0-9a-f]{6} — 3 clusters; rolls control plane", result.stdout
    )
    assert "template change in class standard: rolls control plane, pool general" in head
    assert 'kubeletExtraArgs[name=max-pods]`: added `{"name": "max-pods", "value": "200"}`' in result.stdout


def test_a_health_check_change_moves_clusters_without_replacing_machines(repo: FleetRepo) -> None:
    repo.builder.set("ClusterClass", "edge", "spec.healthCheck", {"nodeStartupTimeout": "30m"})
    repo.write()

    report = _report()

    [edge] = report["clusters"]
    assert edge["name"] == "edge-1"
    assert edge["effects"] == ["reconfigure"]
    assert edge["machines"]["controlPlaneReplaced"] == 0
    assert edge["machines"]["workersReplaced"] == {"min": 0, "max": 0}
    [revision] = report["revisions"]
    assert revision["inPlace"] == ["control-plane health check", "worker health checks"]


def test_removing_a_pool_still_running_machines_is_destructive_and_a_policy_error(repo: FleetRepo) -> None:
    repo.builder.set("ClusterClass", "edge", "spec.workers", {"gpu": {"size": "medium", "replicas": 1}})
    repo.write()

    result = run("diff", "fleet", "--base", "HEAD", "--format", "markdown")

    assert result.exit_code == 1
    head = top(result.stdout)
    assert "**Worker pools removed** (their machines deleted) on 1 cluster: `edge-1` (pool apps, wave broad)" in head
    assert (
        "pool apps is removed from class edge (edge-local) while 1 cluster(s) still run machines in it (edge-1)" in head
    )
    assert "`fleet/classes.yaml:" in head and "`spec.workers`" in head


def test_removing_a_pool_scaled_to_zero_everywhere_is_allowed(repo: FleetRepo) -> None:
    repo.builder.set("ClusterClass", "edge", "spec.workers.apps.replicas", 0)
    repo.builder.set("ClusterClass", "edge", "spec.workers.gpu", {"size": "medium", "replicas": 1})
    repo.commit("apps scaled to 0")
    repo.builder.unset("ClusterClass", "edge", "spec.workers.apps")
    repo.write()

    report = _report()

    assert report["policy"] == []
    [edge] = report["clusters"]
    assert edge["poolsRemoved"] == ["apps"]
    assert edge["destructive"]


def test_a_variable_no_class_patch_reads_is_a_reconfiguration_only(repo: FleetRepo) -> None:
    variable = {"imageRepository": {"type": "string", "default": ""}}
    repo.builder.set("ClusterClass", "standard", "spec.variables", variable)
    repo.commit("class variable")
    repo.cluster("eu-2")["spec"]["variables"] = {"imageRepository": "registry.example.com/k8s"}
    repo.write()

    [cluster] = _report()["clusters"]

    assert cluster["effects"] == ["reconfigure"]
    assert cluster["notes"] == ["variables changed: imageRepository"]
    assert cluster["machines"]["controlPlaneReplaced"] == 0


def test_a_variable_a_class_patch_reads_may_replace_machines(repo: FleetRepo) -> None:
    """Built trees: hand-add a patch reading the variable (fleet classes have no user patches of their own)."""
    import yaml

    repo.builder.set("ClusterClass", "standard", "spec.variables", {"imageRepository": {"type": "string"}})
    repo.write()
    for out in ("out-a", "out-b"):
        assert run("build", "fleet", "--out-dir", out, "--flux-path", "./c").exit_code == 0
        [class_file] = (repo.root / out / "classes").glob("standard-local-*/class.yaml")
        documents = list(yaml.safe_load_all(class_file.read_text()))
        patch = {"op": "add", "path": "/spec/x", "valueFrom": {"variable": "imageRepository"}}
        documents[-1]["spec"]["patches"] = [{"name": "mirror", "definitions": [{"jsonPatches": [patch]}]}]
        class_file.write_text(yaml.safe_dump_all(documents))
        repo.cluster("sim-1")["spec"]["variables"] = {"imageRepository": "registry.example.com/k8s"}
        repo.write()

    [cluster] = json.loads(run("diff", "out-a", "out-b", "--format", "json").stdout)["clusters"]

    assert cluster["name"] == "sim-1"
    assert cluster["notes"] == [
        "variables changed: imageRepository (read by class patches: imageRepository; machines may be replaced)"
    ]


def test_a_drain_timeout_change_moves_clusters_without_replacing_machines(repo: FleetRepo) -> None:
    repo.builder.set("ClusterClass", "edge", "spec.nodeDrainTimeout", "20m")
    repo.write()

    report = _report()

    [edge] = report["clusters"]
    assert edge["effects"] == ["reconfigure"]
    assert edge["machines"]["controlPlaneReplaced"] == 0
    assert edge["machines"]["workersReplaced"] == {"min": 0, "max": 0}
    [revision] = report["revisions"]
    assert revision["inPlace"] == ["control-plane drain timeout", "worker drain timeouts"]


def test_a_machine_label_change_moves_clusters_without_replacing_machines_and_says_so(repo: FleetRepo) -> None:
    """A pool's ``node-role.kubernetes.io/*`` label goes on its Machines (the class's MachineDeployment metadata), which
    CAPI changes in place (``MachineTemplateDeepCopyRolloutFields`` drops labels and annotations): the change was
    listed as "worker health checks"."""
    repo.builder.set("ClusterClass", "edge", "spec.workers.apps.nodeLabels", {"node-role.kubernetes.io/apps": ""})
    repo.write()

    report = _report()

    [edge] = report["clusters"]
    assert edge["effects"] == ["reconfigure"]
    assert edge["machines"]["workersReplaced"] == {"min": 0, "max": 0}
    [revision] = report["revisions"]
    assert revision["inPlace"] == ["worker machine labels and annotations"]


def test_a_volume_detach_timeout_is_named_apart_from_the_drain_timeout(repo: FleetRepo) -> None:
    repo.builder.set("ClusterClass", "edge", "spec.workers.apps.nodeVolumeDetachTimeout", "30m")
    repo.write()

    report = _report()

    [edge] = report["clusters"]
    assert edge["machines"]["workersReplaced"] == {"min": 0, "max": 0}
    [revision] = report["revisions"]
    assert revision["inPlace"] == ["worker volume detach timeouts"]


def test_a_node_deletion_timeout_is_named_apart_from_the_other_timeouts(repo: FleetRepo) -> None:
    repo.builder.set("ClusterClass", "edge", "spec.nodeDeletionTimeout", "1m")
    repo.write()

    report = _report()

    [edge] = report["clusters"]
    assert edge["machines"]["workersReplaced"] == {"min": 0, "max": 0}
    assert edge["machines"]["controlPlaneReplaced"] == 0
    [revision] = report["revisions"]
    assert revision["inPlace"] == ["control-plane node deletion timeout", "worker node deletion timeouts"]
