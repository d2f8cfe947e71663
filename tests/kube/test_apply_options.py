"""``fleetc apply --kubeconfig`` options on a real API server: ``--dry-run=server`` (nothing stored; rejections by
the API server reported at the spec file and line, exit 1), ``--detach`` (submit and exit), and ``fleetc status
CLUSTER`` read from the management cluster."""

from __future__ import annotations

import time
from pathlib import Path

import yaml

from fleetc.rollout.model import GROUP
from tests.kube.capi_player import CapiPlayer
from tests.kube.fleetc_api import ensure_fleetc_crds
from tests.kube.fleets import BROAD, CANARY, FLEET, write_fleet
from tests.kube.support import CAPI, KubeApi
from tests.kube.test_apply_management import cluster_names, fleetc, get, states, wait_for


def _policy(namespace: str) -> str:
    """A ValidatingAdmissionPolicy (CEL) allowing at most one control plane replica on Clusters in ``namespace``."""
    name = f"{namespace}-one-cp"
    policy = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": name},
        "spec": {
            "failurePolicy": "Fail",
            "matchConstraints": {
                "resourceRules": [
                    {
                        "apiGroups": [CAPI],
                        "apiVersions": ["*"],
                        "operations": ["CREATE", "UPDATE"],
                        "resources": ["clusters"],
                    }
                ]
            },
            "validations": [
                {
                    "expression": "object.spec.topology.controlPlane.replicas <= 1",
                    "message": "at most 1 control plane replica in this namespace",
                }
            ],
        },
    }
    binding = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": name},
        "spec": {
            "policyName": name,
            "validationActions": ["Deny"],
            "matchResources": {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}}},
        },
    }
    return yaml.safe_dump_all([policy, binding])


def test_a_dry_run_stores_nothing_and_reports_what_the_server_rejects_at_the_spec_line(
    kube_api: KubeApi, kube_namespace: str, tmp_path: Path
) -> None:
    ensure_fleetc_crds(kube_api)
    root = write_fleet(tmp_path / "fleet", kube_namespace)
    accepted = fleetc(kube_api, "apply", str(root), "--dry-run=server")
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert "0 rejections" in accepted.stdout
    assert cluster_names(kube_api, kube_namespace) == set()
    assert get(kube_api, kube_namespace, f"fleetrollouts.{GROUP}")["items"] == []
    kube_api.kubectl("apply", "-f", "-", input=_policy(kube_namespace))
    deadline = time.monotonic() + 30
    rejected = fleetc(kube_api, "apply", str(root), "--dry-run=server")
    while rejected.returncode == 0 and time.monotonic() < deadline:  # the policy takes a moment to be enforced
        time.sleep(1)
        rejected = fleetc(kube_api, "apply", str(root), "--dry-run=server")
    assert rejected.returncode == 1, rejected.stdout + rejected.stderr
    lines = [line for line in rejected.stdout.splitlines() if "at most 1 control plane replica" in line]
    clusters = root / "clusters.yaml"
    starts = [i for i, line in enumerate(clusters.read_text().splitlines(), 1) if line.startswith("apiVersion:")]
    expected = {
        f"{clusters.as_posix()}:{line}: Cluster {name}" for line, name in zip(starts, (CANARY, *BROAD), strict=True)
    }
    assert {line.split(": ", 2)[0] + ": " + line.split(": ", 2)[1] for line in lines} == expected, rejected.stdout
    assert "3 rejections" in rejected.stdout and "REJECTED" in rejected.stdout
    assert cluster_names(kube_api, kube_namespace) == set()


def test_detach_submits_the_rollout_and_exits(kube_api: KubeApi, kube_namespace: str, tmp_path: Path) -> None:
    ensure_fleetc_crds(kube_api)
    root = write_fleet(tmp_path / "fleet", kube_namespace)
    result = fleetc(kube_api, "apply", str(root), "--detach")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "submitted rollout" in result.stdout
    assert states(kube_api, kube_namespace) == {name: "Pending" for name in (CANARY, *BROAD)}
    assert cluster_names(kube_api, kube_namespace) == set()  # nobody ran the controller
    rollout = get(kube_api, kube_namespace, f"fleetrollouts.{GROUP}", FLEET)
    assert rollout["spec"]["revision"] and "status" not in rollout


def test_status_of_a_cluster_reads_its_capi_objects_from_the_management_cluster(
    kube_api: KubeApi, kube_namespace: str, tmp_path: Path
) -> None:
    ensure_fleetc_crds(kube_api)
    root = write_fleet(tmp_path / "fleet", kube_namespace)
    with CapiPlayer(kube_api, kube_namespace) as player:
        assert fleetc(kube_api, "apply", str(root)).returncode == 0
        wait_for(lambda: len(player.shown) == 3, "every cluster shown")
    table = fleetc(kube_api, "status", "-n", kube_namespace)
    assert table.returncode == 0 and all(name in table.stdout for name in (CANARY, *BROAD))
    tree = fleetc(kube_api, "status", CANARY, "-n", kube_namespace)
    assert tree.returncode == 0, tree.stdout + tree.stderr
    assert f"Cluster/{CANARY}" in tree.stdout and "KubeadmControlPlane" in tree.stdout and "Machine" in tree.stdout
