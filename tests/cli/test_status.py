"""``fleetc status [CLUSTER]``: at least what ``clusterctl describe cluster`` shows, and the fleet at a glance.

A halted rollout of the example fleet (sim-canary-1's control plane never gets a Node) gives objects whose conditions
carry multi-line messages; a pure test of :func:`fleetc.runtime.describe.describe` pins the tree's rows.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetc.contract.timestamps import parse_timestamp
from fleetc.runtime.describe import describe
from tests.cli.conftest import EXAMPLE_FLEET, RunFleetc

NOW = "2026-01-01T01:00:00Z"
EARLIER = "2026-01-01T00:00:00Z"


@pytest.fixture
def halted(fleetc: RunFleetc, tmp_path: Path) -> Path:
    path = tmp_path / "state.json"
    result = fleetc("apply", str(EXAMPLE_FLEET), "--local", "--approve", "broad", "--state", str(path), "--speed", "0",
                    "--fail-control-plane", "sim-canary-1")  # fmt: skip
    assert result.exit_code == 3, result.output
    return path


def _condition(kind: str, status: str, reason: str, message: str = "") -> dict[str, str]:
    return {"type": kind, "status": status, "reason": reason, "message": message, "lastTransitionTime": EARLIER}


def _cluster() -> dict[str, object]:
    return {
        "kind": "Cluster",
        "metadata": {"name": "c1"},
        "spec": {
            "infrastructureRef": {"apiGroup": "infrastructure.cluster.x-k8s.io", "kind": "AWSCluster", "name": "c1-x7"}
        },
        "status": {
            "conditions": [
                _condition(
                    "Available", "False", "NotAvailable", "* WorkersAvailable:\n  * MachineDeployment md: 0 available"
                ),
                _condition("InfrastructureReady", "False", "NotReady", "VPC pending"),
                _condition("RemoteConnectionProbe", "True", "ProbeSucceeded"),
            ]
        },
    }


def test_the_tree_has_an_infrastructure_row_and_keeps_every_message_line() -> None:
    rows = describe([_cluster()], parse_timestamp(NOW))
    assert [row.name for row in rows] == ["Cluster/c1", "│ ", "├─ClusterInfrastructure - AWSCluster/c1-x7"]
    assert [row.message for row in rows] == [
        "* WorkersAvailable:",
        "  * MachineDeployment md: 0 available",
        "VPC pending",
    ]
    assert (rows[2].status, rows[2].reason, rows[2].since) == ("False", "NotReady", "1h")


def test_show_conditions_lists_every_condition_of_the_chosen_objects() -> None:
    plain = describe([_cluster()], parse_timestamp(NOW))
    for chosen in (["all"], ["Cluster"], ["Cluster/c1"]):
        rows = describe([_cluster()], parse_timestamp(NOW), chosen)
        assert [row.condition for row in rows if row.condition] == [
            "Available",
            "InfrastructureReady",
            "RemoteConnectionProbe",
        ]
    assert describe([_cluster()], parse_timestamp(NOW), ["Machine", "Cluster/other"]) == plain


def test_status_of_a_halted_cluster_shows_the_whole_condition_message(fleetc: RunFleetc, halted: Path) -> None:
    result = fleetc("status", "sim-canary-1", "--state", str(halted))
    assert result.exit_code == 3, result.output
    lines = result.stdout.splitlines()
    assert any(line.startswith("├─ClusterInfrastructure - DevCluster/sim-canary-1-") for line in lines)
    cluster = lines.index(next(line for line in lines if line.startswith("Cluster/sim-canary-1")))
    # the Cluster's Available message has one line per failing condition; all of them are shown, in order
    assert "* RemoteConnectionProbe:" in lines[cluster] and "* ControlPlaneInitialized:" in lines[cluster + 1]
    assert "Node failed to report startup in 10m0s" in result.stdout  # a line deep in a Machine's message


def test_status_show_conditions_on_the_control_plane(fleetc: RunFleetc, halted: Path) -> None:
    plain = fleetc("status", "sim-canary-1", "--state", str(halted)).stdout
    result = fleetc("status", "sim-canary-1", "--state", str(halted), "--show-conditions", "KubeadmControlPlane")
    assert result.exit_code == 3
    added = [word for line in result.stdout.splitlines() if line not in plain.splitlines() for word in line.split()]
    assert {"├─EtcdClusterHealthy", "├─MachinesReady", "└─Deleting"} <= set(added)


def test_show_conditions_needs_a_cluster(fleetc: RunFleetc, halted: Path) -> None:
    result = fleetc("status", "--state", str(halted), "--show-conditions", "all")
    assert result.exit_code == 2 and "--show-conditions needs a CLUSTER" in result.stderr


def test_status_of_the_fleet_says_how_the_rollout_ended_and_what_capi_says(fleetc: RunFleetc, halted: Path) -> None:
    result = fleetc("status", "--state", str(halted))
    assert result.exit_code == 3
    lines = result.stdout.splitlines()
    assert lines[0].startswith("rollout acme: HALTED in wave canary: wave canary: 1 of 2 clusters failed")
    assert lines[2].split() == ["WAVE", "CLUSTER", "STATE", "VERSION", "AVAILABLE", "CONTROL", "PLANE", "WORKERS",
                                "STARTED", "FINISHED", "REASON"]  # fmt: skip
    rows = {line.split()[1]: line.split() for line in lines[3:]}
    assert rows["docker-canary-1"][2:7] == ["Succeeded", "v1.35.0", "True", "1/1", "2/2"]
    assert rows["sim-canary-1"][2:7] == ["Failed", "v1.35.0", "False", "0/3", "0/2"]
    assert rows["eu-prod-1"][2:7] == ["Pending", "v1.34.2", "-", "0/0", "0/0"]


def test_rollout_status_exits_3_on_a_halted_rollout(fleetc: RunFleetc, halted: Path) -> None:
    result = fleetc("rollout", "status", "--state", str(halted))
    assert result.exit_code == 3 and "HALTED in wave canary" in result.stdout
    assert fleetc("rollout", "status", "--state", str(halted), "-o", "json").exit_code == 3


def test_rollout_status_watch_of_a_halted_rollout_ends_at_once_with_3(fleetc: RunFleetc, halted: Path) -> None:
    result = fleetc("rollout", "status", "--state", str(halted), "--watch")
    assert result.exit_code == 3
    assert "ClusterFailed" in result.stdout and result.stdout.rstrip().splitlines()[-1].startswith(
        "rollout acme: HALTED"
    )
