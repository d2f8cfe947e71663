"""``fleetc status`` rows: the clusterctl-describe tree built from CAPI v1beta2 objects (the status fixtures)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from fleetc.contract.timestamps import parse_timestamp
from fleetc.runtime.describe import age, describe
from tests.upstream.reference import reference

FIXTURES = reference().capi_status


def fixture(name: str) -> list[dict[str, Any]]:
    return [d for f in sorted((FIXTURES / name).glob("*.yaml")) for d in yaml.safe_load_all(f.read_text()) if d]


def test_a_healthy_cluster_reads_as_a_tree_of_available_objects() -> None:
    rows = describe(fixture("healthy-v1.34.2"), parse_timestamp("2026-08-11T10:00:00Z"))
    names = [r.name for r in rows]
    assert names[0] == "Cluster/eu-prod-1"
    assert names[1].startswith("├─ClusterInfrastructure - DevCluster/eu-prod-1-")
    assert names[2].startswith("├─ControlPlane - KubeadmControlPlane/eu-prod-1-")
    assert sum(n.startswith("│ ") and "Machine/" in n for n in names) == 3
    assert "└─Workers" in names and sum(n.startswith("    ") for n in names) == 3
    kcp = rows[2]
    assert (kcp.replicas, kcp.available, kcp.ready, kcp.up_to_date, kcp.status) == ("3/3", "3", "3", "3", "True")


def test_a_stuck_control_plane_machine_stands_out() -> None:
    rows = describe(fixture("cp-new-machine-never-gets-node"), parse_timestamp("2026-08-11T10:10:05Z"))
    kcp = next(r for r in rows if "KubeadmControlPlane" in r.name)
    assert kcp.replicas == "4/3" and kcp.up_to_date == "1"
    stuck = [r for r in rows if "Machine/" in r.name and r.ready == "False"]
    assert len(stuck) == 1 and stuck[0].status == "False" and stuck[0].since == "10m1s"


@pytest.mark.parametrize(("seconds", "shown"), [(5, "5s"), (75, "1m15s"), (3600, "1h"), (90000, "1d1h"), (-3, "0s")])
def test_ages_read_like_kubectl(seconds: float, shown: str) -> None:
    assert age(seconds) == shown


def test_a_machine_pool_is_a_worker_row_with_its_counters() -> None:
    objects = fixture("healthy-v1.34.2")
    cluster = next(o for o in objects if o["kind"] == "Cluster")
    pool = {
        "apiVersion": "cluster.x-k8s.io/v1beta2",
        "kind": "MachinePool",
        "metadata": {"name": "eu-prod-1-burst-x7k2p", "namespace": cluster["metadata"]["namespace"]},
        "spec": {"replicas": 4},
        "status": {"replicas": 4, "readyReplicas": 3, "availableReplicas": 3, "upToDateReplicas": 4},
    }
    rows = describe([*objects, pool], parse_timestamp("2026-08-11T10:00:00Z"))
    names = [r.name for r in rows]
    assert names[-1] == "  └─MachinePool/eu-prod-1-burst-x7k2p"  # the last worker group: after the deployments
    row = rows[-1]
    assert (row.replicas, row.ready, row.available, row.up_to_date) == ("4/4", "3", "3", "4")
    assert any(n.startswith("  ├─MachineDeployment/") for n in names)
